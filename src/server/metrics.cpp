#include "server/metrics.hpp"

#include <algorithm>
#include <charconv>

namespace addrservice::http {

namespace {

// Methods get a label of their own; any other is counted as OTHER, so a client cannot grow the table.
constexpr std::array<std::string_view, 7> methods{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
constexpr std::string_view other_method = "OTHER";

std::uint32_t method_index(std::string_view method) noexcept
{
    const auto* const found = std::find(methods.begin(), methods.end(), method);
    return static_cast<std::uint32_t>(found - methods.begin());  // methods.size() for OTHER
}

std::string_view method_name(std::uint32_t index) noexcept
{
    return index < methods.size() ? methods[index] : other_method;
}

constexpr std::uint32_t status_span = 1000;
constexpr std::uint32_t method_span = static_cast<std::uint32_t>(methods.size()) + 1;

std::uint32_t key(std::uint32_t method, std::size_t route, unsigned status) noexcept
{
    return (static_cast<std::uint32_t>(route) * method_span + method) * status_span + std::min(status, 999U);
}

// Numbers as the format wants them whatever the process's locale: std::to_chars ignores it.
template <typename Number>
void append_number(std::string& out, Number value)
{
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help)
{
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

template <typename Number>
void append_sample(std::string& out, std::string_view name, std::string_view labels, Number value)
{
    out.append(name);
    if (!labels.empty()) {
        out.append("{").append(labels).append("}");
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

std::string label(std::string_view name, std::string_view value)
{
    std::string out(name);
    out.append("=\"").append(escape_label_value(value)).append("\"");
    return out;
}

}  // namespace

std::string escape_label_value(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

Metrics::Metrics(std::vector<std::string_view> routes, std::string_view version)
    : routes_(std::move(routes)),
      version_(version),
      start_time_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()),
      durations_(routes_.size() + 1)
{
    // Every label set that ordinary traffic makes, so that recording it never allocates.
    requests_.reserve(routes_.size() * 8 + 64);
}

std::size_t Metrics::route_index(std::string_view route) const noexcept
{
    const auto found = std::find(routes_.begin(), routes_.end(), route);
    return static_cast<std::size_t>(found - routes_.begin());
}

void Metrics::request_finished(std::string_view method, std::size_t route, unsigned status, double seconds)
{
    --in_flight_;
    route = std::min(route, routes_.size());
    ++requests_[key(method_index(method), route, status)];
    auto& histogram = durations_[route];
    const auto bucket = std::lower_bound(buckets.begin(), buckets.end(), seconds) - buckets.begin();
    ++histogram.counts[static_cast<std::size_t>(bucket)];
    histogram.sum += seconds;
    ++histogram.count;
}

std::string Metrics::render(std::size_t entries) const
{
    auto route_name = [this](std::size_t route) { return route < routes_.size() ? routes_[route] : "unmatched"; };
    std::string out;
    out.reserve(4096);

    append_header(out, "http_requests_total", "counter", "Requests answered, by method, route template and status.");
    std::vector<std::pair<std::uint32_t, std::uint64_t>> counts(requests_.begin(), requests_.end());
    std::sort(counts.begin(), counts.end());
    for (const auto& [packed, count] : counts) {
        const auto status = packed % status_span;
        const auto method = packed / status_span % method_span;
        const auto route = packed / status_span / method_span;
        const auto labels = label("method", method_name(method)) + "," + label("route", route_name(route)) + "," +
                            label("status", std::to_string(status));
        append_sample(out, "http_requests_total", labels, count);
    }

    append_header(out, "http_request_duration_seconds", "histogram",
                  "Time from a request's header to its response, by route template.");
    for (std::size_t route = 0; route < durations_.size(); ++route) {
        const auto& histogram = durations_[route];
        if (histogram.count == 0) {
            continue;
        }
        const auto route_label = label("route", route_name(route));
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            cumulative += histogram.counts[i];
            // Bounds in plain decimals ("0.0001", not "1e-04"), as Prometheus clients write them.
            std::array<char, 32> bound{};
            const auto written =
                std::to_chars(bound.data(), bound.data() + bound.size(), buckets[i], std::chars_format::fixed);
            const std::string le(bound.data(), written.ptr);
            append_sample(out, "http_request_duration_seconds_bucket", route_label + "," + label("le", le), cumulative);
        }
        append_sample(out, "http_request_duration_seconds_bucket", route_label + ",le=\"+Inf\"", histogram.count);
        append_sample(out, "http_request_duration_seconds_sum", route_label, histogram.sum);
        append_sample(out, "http_request_duration_seconds_count", route_label, histogram.count);
    }

    append_header(out, "http_requests_in_flight", "gauge", "Requests being handled, this one included.");
    append_sample(out, "http_requests_in_flight", "", in_flight_);
    append_header(out, "http_connections_open", "gauge", "Client connections open.");
    append_sample(out, "http_connections_open", "", connections_);
    append_header(out, "addressbook_entries", "gauge", "Entries in the store.");
    append_sample(out, "addressbook_entries", "", entries);
    append_header(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
    append_sample(out, "process_start_time_seconds", "", start_time_);
    append_header(out, "addrservice_build_info", "gauge", "Always 1; the version is a label.");
    append_sample(out, "addrservice_build_info", label("version", version_), 1);
    return out;
}

}  // namespace addrservice::http
