#include "server/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>

namespace addrservice::http {

namespace {

constexpr std::string_view other_method = "OTHER";

std::size_t method_index(std::string_view method) noexcept
{
    const auto* const found = std::find(Metrics::methods.begin(), Metrics::methods.end(), method);
    return static_cast<std::size_t>(found - Metrics::methods.begin());  // methods.size() for OTHER
}

std::string_view method_name(std::size_t index) noexcept
{
    return index < Metrics::methods.size() ? Metrics::methods[index] : other_method;
}

double seconds_since_epoch()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Metrics::Metrics(std::vector<std::string_view> routes, std::string_view version)
    : routes_(std::move(routes)),
      requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("Requests answered, by method, route template and status.")
                    .Register(registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("http_request_duration_seconds")
                     .Help("Time from a request's header to its response, by route template.")
                     .Register(registry_)),
      in_flight_(prometheus::BuildGauge()
                     .Name("http_requests_in_flight")
                     .Help("Requests being handled, this one included.")
                     .Register(registry_)
                     .Add({})),
      connections_(prometheus::BuildGauge()
                       .Name("http_connections_open")
                       .Help("Client connections open.")
                       .Register(registry_)
                       .Add({})),
      entries_(prometheus::BuildGauge()
                   .Name("addressbook_entries")
                   .Help("Entries in the store.")
                   .Register(registry_)
                   .Add({})),
      request_counters_(routes_.size() + 1),
      histograms_(routes_.size() + 1, nullptr)
{
    prometheus::BuildGauge()
        .Name("process_start_time_seconds")
        .Help("Start time of the process since the Unix epoch.")
        .Register(registry_)
        .Add({})
        .Set(seconds_since_epoch());
    prometheus::BuildGauge()
        .Name("addrservice_build_info")
        .Help("Always 1; the version is a label.")
        .Register(registry_)
        .Add({{"version", std::string(version)}})
        .Set(1);
}

std::size_t Metrics::route_index(std::string_view route) const noexcept
{
    const auto found = std::find(routes_.begin(), routes_.end(), route);
    return static_cast<std::size_t>(found - routes_.begin());
}

std::string Metrics::route_name(std::size_t route) const
{
    return std::string(route < routes_.size() ? routes_[route] : "unmatched");
}

void Metrics::request_finished(std::string_view method, std::size_t route, unsigned status, double seconds)
{
    in_flight_.Decrement();
    route = std::min(route, routes_.size());
    requests_counter(method_index(method), route, status).Increment();
    duration_histogram(route).Observe(seconds);
}

prometheus::Counter& Metrics::requests_counter(std::size_t method, std::size_t route, unsigned status)
{
    auto& seen = request_counters_[route][method];
    const auto found =
        std::find_if(seen.begin(), seen.end(), [status](const StatusCounter& known) { return known.status == status; });
    if (found != seen.end()) {
        return *found->counter;
    }
    auto& counter = requests_.Add({{"method", std::string(method_name(method))},
                                   {"route", route_name(route)},
                                   {"status", std::to_string(status)}});
    seen.push_back({status, &counter});
    return counter;
}

prometheus::Histogram& Metrics::duration_histogram(std::size_t route)
{
    auto*& histogram = histograms_[route];
    if (histogram == nullptr) {
        histogram = &durations_.Add({{"route", route_name(route)}},
                                    prometheus::Histogram::BucketBoundaries(buckets.begin(), buckets.end()));
    }
    return *histogram;
}

std::string Metrics::render(std::size_t entries)
{
    entries_.Set(static_cast<double>(entries));
    return prometheus::TextSerializer().Serialize(registry_.Collect());
}

}  // namespace addrservice::http
