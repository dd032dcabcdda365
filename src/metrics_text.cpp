// Prometheus' text exposition format (version 0.0.4):
// https://prometheus.io/docs/instrumenting/exposition_formats/
#include <zkr/metrics.hpp>

#include <charconv>
#include <cmath>
#include <string>

namespace zkr {
namespace {

void append_number(std::string& out, double value) {
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, ec == std::errc{} ? end : buffer);
}

/// Label values escape backslash, double quote and line feed.
void append_label_value(std::string& out, std::string_view value) {
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

using label_list = std::vector<std::pair<std::string, std::string>>;

/// "name{a="x",b="y"} value\n", with `extra` ("le") after the series' own labels.
void append_sample(std::string& out, std::string_view name, const label_list& labels,
                   const std::pair<std::string_view, std::string>* extra, double value) {
    out += name;
    if (!labels.empty() || extra != nullptr) {
        out += '{';
        bool first = true;
        const auto label = [&](std::string_view key, std::string_view text) {
            if (!first) {
                out += ',';
            }
            first = false;
            out += key;
            out += "=\"";
            append_label_value(out, text);
            out += '"';
        };
        for (const auto& [key, text] : labels) {
            label(key, text);
        }
        if (extra != nullptr) {
            label(extra->first, extra->second);
        }
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

std::string_view type_name(metric_type type) {
    switch (type) {
        case metric_type::counter:
            return "counter";
        case metric_type::gauge:
            return "gauge";
        case metric_type::histogram:
            return "histogram";
    }
    return "untyped";
}

void append_histogram(std::string& out, const metric_family& f, const metric_series& s) {
    const auto bucket = f.name + "_bucket";
    for (std::size_t i = 0; i < s.cumulative_counts.size(); ++i) {
        std::string bound;
        append_number(bound, i < f.bucket_bounds.size() ? f.bucket_bounds[i] : INFINITY);
        const std::pair<std::string_view, std::string> le{"le", std::move(bound)};
        append_sample(out, bucket, s.labels, &le, static_cast<double>(s.cumulative_counts[i]));
    }
    append_sample(out, f.name + "_sum", s.labels, nullptr, s.sum);
    append_sample(out, f.name + "_count", s.labels, nullptr, static_cast<double>(s.count));
}

}  // namespace

std::string to_prometheus_text(const std::vector<metric_family>& families) {
    std::string out;
    for (const auto& f : families) {
        out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n");
        out.append("# TYPE ").append(f.name).append(" ").append(type_name(f.type)).append("\n");
        for (const auto& s : f.series) {
            if (f.type == metric_type::histogram) {
                append_histogram(out, f, s);
            } else {
                append_sample(out, f.name, s.labels, nullptr, s.value);
            }
        }
    }
    return out;
}

}  // namespace zkr
