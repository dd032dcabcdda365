// zkr's metrics in a prometheus-cpp registry (Debian: prometheus-cpp-dev). Header-only; link the
// CMake target zkr::prometheus, which brings prometheus-cpp::core.
//
//     auto m = std::make_shared<zkr::metrics>();
//     config.observer = m;
//     prometheus::Exposer exposer("127.0.0.1:9464");            // prometheus-cpp::pull
//     auto collectable = std::make_shared<zkr::prometheus_collectable>(m);
//     exposer.RegisterCollectable(collectable);  // held weakly: keep `collectable` alive
//
// Each scrape takes one snapshot (metrics::collect) and converts it: the families and series of
// zkr/metrics.hpp, unchanged.
#pragma once

#include <zkr/metrics.hpp>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace zkr {

class prometheus_collectable final : public ::prometheus::Collectable {
  public:
    explicit prometheus_collectable(std::shared_ptr<const metrics> source)
        : source_(std::move(source)) {}

    std::vector<::prometheus::MetricFamily> Collect() const override {
        std::vector<::prometheus::MetricFamily> out;
        for (const auto& family : source_->collect()) {
            out.push_back(convert(family));
        }
        return out;
    }

  private:
    static ::prometheus::MetricFamily convert(const metric_family& family) {
        ::prometheus::MetricFamily out;
        out.name = family.name;
        out.help = family.help;
        out.type = type_of(family.type);
        for (const auto& series : family.series) {
            ::prometheus::ClientMetric metric;
            for (const auto& [name, value] : series.labels) {
                metric.label.push_back({name, value});
            }
            switch (family.type) {
                case metric_type::counter:
                    metric.counter.value = series.value;
                    break;
                case metric_type::gauge:
                    metric.gauge.value = series.value;
                    break;
                case metric_type::histogram:
                    metric.histogram.sample_count = series.count;
                    metric.histogram.sample_sum = series.sum;
                    for (std::size_t i = 0; i < series.cumulative_counts.size(); ++i) {
                        metric.histogram.bucket.push_back(
                            {series.cumulative_counts[i],
                             i < family.bucket_bounds.size()
                                 ? family.bucket_bounds[i]
                                 : std::numeric_limits<double>::infinity()});
                    }
                    break;
            }
            out.metric.push_back(std::move(metric));
        }
        return out;
    }

    static ::prometheus::MetricType type_of(metric_type type) {
        switch (type) {
            case metric_type::gauge:
                return ::prometheus::MetricType::Gauge;
            case metric_type::histogram:
                return ::prometheus::MetricType::Histogram;
            case metric_type::counter:
                break;
        }
        return ::prometheus::MetricType::Counter;
    }

    std::shared_ptr<const metrics> source_;
};

}  // namespace zkr
