#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice::http {
namespace {

bool has_line(const std::string& text, const std::string& line)
{
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, CountsByMethodRouteAndStatusWithExactBuckets)
{
    Metrics metrics({"/addresses", "/addresses/{id}"}, "1.2.3");
    for (const double seconds : {0.0001, 0.0003, 0.002, 0.7, 30.0}) {
        metrics.request_started();
        metrics.request_finished("GET", 1, 200, seconds);
    }
    metrics.request_started();
    metrics.request_finished("POST", 0, 201, 0.004);
    metrics.request_started();
    metrics.request_finished("BREW", metrics.unmatched(), 404, 0.00001);
    metrics.request_started();  // still in flight
    metrics.connection_opened();
    metrics.connection_opened();
    metrics.connection_closed();

    const auto text = metrics.render(42);
    EXPECT_TRUE(has_line(text, R"(http_requests_total{method="GET",route="/addresses/{id}",status="200"} 5)")) << text;
    EXPECT_TRUE(has_line(text, R"(http_requests_total{method="POST",route="/addresses",status="201"} 1)"));
    EXPECT_TRUE(has_line(text, R"(http_requests_total{method="OTHER",route="unmatched",status="404"} 1)"));
    // Cumulative buckets; a value on a bound counts in that bucket (le is "less than or equal").
    const std::string id_route = R"(route="/addresses/{id}")";
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="0.0001"} 1)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="0.00025"} 1)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="0.0005"} 2)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="0.0025"} 3)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="0.5"} 3)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="1"} 4)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="2.5"} 4)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_bucket{" + id_route + R"(,le="+Inf"} 5)"));
    EXPECT_TRUE(has_line(text, "http_request_duration_seconds_count{" + id_route + "} 5"));
    const std::string sum_prefix = "\nhttp_request_duration_seconds_sum{" + id_route + "} ";
    const auto sum_at = text.find(sum_prefix);
    ASSERT_NE(sum_at, std::string::npos);
    EXPECT_NEAR(std::stod(text.substr(sum_at + sum_prefix.size())), 30.7024, 1e-9);
    EXPECT_TRUE(has_line(text, R"(http_request_duration_seconds_bucket{route="unmatched",le="0.0001"} 1)"));
    EXPECT_TRUE(has_line(text, "http_requests_in_flight 1"));
    EXPECT_TRUE(has_line(text, "http_connections_open 1"));
    EXPECT_TRUE(has_line(text, "addressbook_entries 42"));
    EXPECT_TRUE(has_line(text, R"(addrservice_build_info{version="1.2.3"} 1)"));
    EXPECT_TRUE(has_line(text, "# TYPE http_request_duration_seconds histogram"));
    EXPECT_TRUE(has_line(text, "# TYPE http_requests_total counter"));
    EXPECT_NE(text.find("\nprocess_start_time_seconds 1"), std::string::npos);
}

TEST(Metrics, RoutesWithoutTrafficHaveNoHistogram)
{
    Metrics metrics({"/addresses", "/livez"}, "1");
    metrics.request_started();
    metrics.request_finished("GET", 1, 200, 0.001);
    const auto text = metrics.render(0);
    EXPECT_NE(text.find(R"(route="/livez")"), std::string::npos);
    EXPECT_EQ(text.find(R"(route="/addresses")"), std::string::npos);
    EXPECT_EQ(metrics.route_index("/livez"), 1U);
    EXPECT_EQ(metrics.route_index("/nowhere"), metrics.unmatched());
}

TEST(Metrics, LabelValuesAreEscaped)
{
    Metrics metrics({"/a\"b\nc"}, "v\\1");
    metrics.request_started();
    metrics.request_finished("GET", 0, 200, 0.5);
    const auto text = metrics.render(0);
    EXPECT_TRUE(has_line(text, R"(addrservice_build_info{version="v\\1"} 1)"));
    EXPECT_TRUE(has_line(text, R"(http_requests_total{method="GET",route="/a\"b\nc",status="200"} 1)"));
}

TEST(Metrics, NumbersAreWrittenTheSameInAnyLocale)
{
    Metrics metrics({"/a"}, "1");
    metrics.request_started();
    metrics.request_finished("GET", 0, 200, 0.25);
    // A locale with a decimal comma, where one is installed; the text must not change with it.
    const auto before = metrics.render(1234567);
    const char* changed = std::setlocale(LC_ALL, "de_DE.UTF-8");
    const auto after = metrics.render(1234567);
    EXPECT_NE(std::setlocale(LC_ALL, "C"), nullptr);
    EXPECT_TRUE(has_line(before, R"(http_request_duration_seconds_sum{route="/a"} 0.25)"));
    EXPECT_TRUE(has_line(before, "addressbook_entries 1234567"));
    if (changed != nullptr) {
        EXPECT_EQ(before, after);
    }
}

TEST(Metrics, EveryFamilyHasItsHelpAndType)
{
    Metrics metrics({"/a"}, "1");
    metrics.request_started();
    metrics.request_finished("GET", 0, 200, 0.001);
    const auto text = metrics.render(0);
    for (const char* line : {
             "# HELP http_requests_total Requests answered, by method, route template and status.",
             "# TYPE http_requests_total counter",
             "# HELP http_request_duration_seconds Time from a request's header to its response, by route template.",
             "# TYPE http_request_duration_seconds histogram",
             "# HELP http_requests_in_flight Requests being handled, this one included.",
             "# TYPE http_requests_in_flight gauge",
             "# HELP http_connections_open Client connections open.",
             "# TYPE http_connections_open gauge",
             "# HELP addressbook_entries Entries in the store.",
             "# TYPE addressbook_entries gauge",
             "# HELP process_start_time_seconds Start time of the process since the Unix epoch.",
             "# TYPE process_start_time_seconds gauge",
             "# HELP addrservice_build_info Always 1; the version is a label.",
             "# TYPE addrservice_build_info gauge",
         }) {
        EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
    }
}

TEST(Metrics, EachLabelSetIsOneSampleHoweverOftenAndInWhateverOrderItComes)
{
    Metrics metrics({"/a", "/b"}, "1");
    const auto record = [&metrics](std::string_view method, std::size_t route, unsigned status) {
        metrics.request_started();
        metrics.request_finished(method, route, status, 0.001);
    };
    for (int round = 0; round < 3; ++round) {
        record("GET", 0, 200);
        record("GET", 0, 404);
        record("PUT", 0, 200);
        record("GET", 1, 200);
    }
    record("GET", 0, 304);
    record("BREW", 7, 418);  // an unknown method and a route index past the table: OTHER, unmatched
    record("TEA", metrics.unmatched(), 418);
    const auto text = metrics.render(0);
    const std::vector<std::string> expected{
        R"(http_requests_total{method="GET",route="/a",status="200"} 3)",
        R"(http_requests_total{method="GET",route="/a",status="404"} 3)",
        R"(http_requests_total{method="PUT",route="/a",status="200"} 3)",
        R"(http_requests_total{method="GET",route="/b",status="200"} 3)",
        R"(http_requests_total{method="GET",route="/a",status="304"} 1)",
        R"(http_requests_total{method="OTHER",route="unmatched",status="418"} 2)",
    };
    for (const auto& line : expected) {
        EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
    }
    std::size_t samples = 0;
    for (auto at = text.find("\nhttp_requests_total{"); at != std::string::npos;
         at = text.find("\nhttp_requests_total{", at + 1)) {
        ++samples;
    }
    EXPECT_EQ(samples, expected.size()) << text;
    EXPECT_TRUE(has_line(text, R"(http_request_duration_seconds_count{route="/a"} 10)"));
    EXPECT_TRUE(has_line(text, R"(http_request_duration_seconds_count{route="unmatched"} 2)"));
    EXPECT_TRUE(has_line(text, "http_requests_in_flight 0"));
}

}  // namespace
}  // namespace addrservice::http
