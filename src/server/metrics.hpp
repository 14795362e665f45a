#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice::http {

/// The HTTP layer's Prometheus metrics, kept in a prometheus-cpp registry. The samples a request adds to
/// are found once and kept in tables by route and method: recording a request looks up no label set, and
/// only the first request of a (method, route, status) adds one to the registry. One process's figures:
/// with --workers, each worker answers for itself.
class Metrics {
public:
    /// Upper bounds of the duration histogram's buckets, in seconds.
    static constexpr std::array<double, 14> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                    0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
    /// Methods with a label of their own; any other is counted as OTHER, so a client cannot grow the table.
    static constexpr std::array<std::string_view, 7> methods{"GET",    "HEAD",  "POST",   "PUT",
                                                             "DELETE", "PATCH", "OPTIONS"};

    /// routes: the route templates, each once; a request that matched none is counted under
    /// `unmatched`, the index routes.size().
    explicit Metrics(std::vector<std::string_view> routes, std::string_view version);

    /// The index of a route template (unmatched() when it is not one of them).
    [[nodiscard]] std::size_t route_index(std::string_view route) const noexcept;
    [[nodiscard]] std::size_t unmatched() const noexcept { return routes_.size(); }

    void request_started() noexcept { in_flight_.Increment(); }
    /// A response was made: counted by method, route and status, its duration in the route's histogram.
    void request_finished(std::string_view method, std::size_t route, unsigned status, double seconds);
    void connection_opened() noexcept { connections_.Increment(); }
    void connection_closed() noexcept { connections_.Decrement(); }

    /// Everything in the Prometheus text format 0.0.4; entries is the store's current count.
    [[nodiscard]] std::string render(std::size_t entries);

private:
    struct StatusCounter {
        unsigned status;
        prometheus::Counter* counter;
    };
    // Per method (OTHER last), the counters of the statuses seen so far: a handful, searched in order.
    using MethodCounters = std::array<std::vector<StatusCounter>, methods.size() + 1>;

    [[nodiscard]] std::string route_name(std::size_t route) const;
    prometheus::Counter& requests_counter(std::size_t method, std::size_t route, unsigned status);
    prometheus::Histogram& duration_histogram(std::size_t route);

    std::vector<std::string_view> routes_;
    prometheus::Registry registry_;
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Histogram>& durations_;
    prometheus::Gauge& in_flight_;
    prometheus::Gauge& connections_;
    prometheus::Gauge& entries_;
    std::vector<MethodCounters> request_counters_;    // per route, unmatched last
    std::vector<prometheus::Histogram*> histograms_;  // per route, unmatched last; null until its first request
};

/// The content type of the text format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace addrservice::http
