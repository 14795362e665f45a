#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;

bool has_line(const std::string& text, const std::string& line)
{
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Operations, MetricsCountKnownTrafficExactly)
{
    TestServer server;
    HttpClient client(server.port());
    std::string location;
    for (const char* name : {"ines-marchetti-sole.json", "tobias-renwick-adeyemi.json"}) {
        const auto created = client.request(verb::post, "/addresses", sample(name));
        ASSERT_EQ(created.result(), status::created);
        location = std::string(created[field::location]);
    }
    EXPECT_EQ(client.get(location).result(), status::ok);
    EXPECT_EQ(client.get(location + "/").result(), status::ok);  // the same route template
    EXPECT_EQ(client.get("/addresses/no-such-entry").result(), status::not_found);
    EXPECT_EQ(client.get("/no/such/endpoint").result(), status::not_found);
    EXPECT_EQ(client.request(verb::patch, "/addresses").result(), status::method_not_allowed);

    const auto scrape = client.get("/metrics");
    ASSERT_EQ(scrape.result(), status::ok);
    EXPECT_EQ(scrape[field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    const auto& text = scrape.body();
    for (const std::string line : {
             R"(http_requests_total{method="POST",route="/addresses",status="201"} 2)",
             R"(http_requests_total{method="GET",route="/addresses/{id}",status="200"} 2)",
             R"(http_requests_total{method="GET",route="/addresses/{id}",status="404"} 1)",
             R"(http_requests_total{method="GET",route="unmatched",status="404"} 1)",
             R"(http_requests_total{method="PATCH",route="/addresses",status="405"} 1)",
             R"(http_request_duration_seconds_count{route="/addresses/{id}"} 3)",
             R"(http_request_duration_seconds_bucket{route="/addresses/{id}",le="+Inf"} 3)",
             R"(http_request_duration_seconds_bucket{route="/addresses/{id}",le="2.5"} 3)",
             R"(http_request_duration_seconds_count{route="/addresses"} 3)",
             "http_requests_in_flight 1",  // the scrape itself
             "http_connections_open 1",
             "addressbook_entries 2",
         }) {
        EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
    }
    EXPECT_EQ(text.find("route=\"/metrics\""), std::string::npos);  // counted once answered

    const auto second = client.get("/metrics").body();
    EXPECT_TRUE(has_line(second, R"(http_requests_total{method="GET",route="/metrics",status="200"} 1)")) << second;
}

TEST(Operations, OpenApiIsServedAsYaml)
{
    TestServer server;
    HttpClient client(server.port());
    const auto response = client.get("/openapi.yaml");
    ASSERT_EQ(response.result(), status::ok);
    EXPECT_EQ(response[field::content_type], "application/yaml");
    std::ifstream file(std::string(ADDRSERVICE_SOURCE_DIR) + "/docs/openapi.yaml");
    std::stringstream expected;
    expected << file.rdbuf();
    EXPECT_EQ(response.body(), expected.str());
}

}  // namespace
}  // namespace addrservice::testing
