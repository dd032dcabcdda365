// Builds against an installed zkr's prometheus-cpp adapter (zkr::prometheus) and checks that a
// zkr::metrics reaches prometheus-cpp's own text serializer unchanged. No server needed.
#include <zkr/metrics.hpp>
#include <zkr/prometheus.hpp>

#include <prometheus/text_serializer.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

int main() {
    auto m = std::make_shared<zkr::metrics>();
    m->acquired({"mutex", "/consumer"}, std::chrono::milliseconds(3), false);
    const zkr::prometheus_collectable collectable(m);
    const auto text = prometheus::TextSerializer().Serialize(collectable.Collect());
    const std::string wanted = "zkr_acquisitions_total{recipe=\"mutex\",path=\"/consumer\"} 1";
    if (text.find(wanted) == std::string::npos) {
        std::printf("not in prometheus-cpp's text: %s\n%s\n", wanted.c_str(), text.c_str());
        return 1;
    }
    std::printf("prometheus adapter: %s\n", wanted.c_str());
    return 0;
}
