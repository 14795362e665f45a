#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace addrservice::http {

/// The HTTP layer's Prometheus metrics. Counters live in tables made once: recording a request is a
/// few additions and one hash lookup, and allocates only the first time a (method, route, status) is
/// seen. One process's figures: with --workers, each worker answers for itself.
class Metrics {
public:
    /// Upper bounds of the duration histogram's buckets, in seconds.
    static constexpr std::array<double, 14> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                    0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};

    /// routes: the route templates, each once; a request that matched none is counted under
    /// `unmatched`, the index routes.size().
    explicit Metrics(std::vector<std::string_view> routes, std::string_view version);

    /// The index of a route template (unmatched() when it is not one of them).
    [[nodiscard]] std::size_t route_index(std::string_view route) const noexcept;
    [[nodiscard]] std::size_t unmatched() const noexcept { return routes_.size(); }

    void request_started() noexcept { ++in_flight_; }
    /// A response was made: counted by method, route and status, its duration in the route's histogram.
    void request_finished(std::string_view method, std::size_t route, unsigned status, double seconds);
    void connection_opened() noexcept { ++connections_; }
    void connection_closed() noexcept { --connections_; }

    /// Everything in the Prometheus text format 0.0.4; entries is the store's current count.
    [[nodiscard]] std::string render(std::size_t entries) const;

private:
    struct Histogram {
        std::array<std::uint64_t, buckets.size() + 1> counts{};  // per bucket, the last one +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };

    std::vector<std::string_view> routes_;
    std::string version_;
    double start_time_;
    std::unordered_map<std::uint32_t, std::uint64_t> requests_;  // key: method, route, status
    std::vector<Histogram> durations_;                           // per route, unmatched last
    std::int64_t in_flight_ = 0;
    std::int64_t connections_ = 0;
};

/// A label value escaped as the text format requires: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

/// The content type of the text format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace addrservice::http
