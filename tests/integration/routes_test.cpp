#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

class RoutesTest : public ::testing::Test {
protected:
    TestServer server;
    HttpClient client{server.port()};

    static json body(const ClientResponse& response) { return json::parse(response.body()); }
};

TEST_F(RoutesTest, CrudRoundTripOverHttp)
{
    auto response = client.request(verb::post, "/addresses", sample("marguerite-okonkwo-lindqvist.json"),
                                   {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(response.result(), status::created);
    EXPECT_TRUE(response.body().empty());
    const std::string location(response[field::location]);
    EXPECT_TRUE(std::regex_match(location, std::regex("/addresses/[0-9a-f]{32}"))) << location;

    response = client.get(location);
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
    EXPECT_EQ(body(response), json::parse(sample("marguerite-okonkwo-lindqvist.json")));

    response = client.request(verb::put, location, sample("tobias-renwick-adeyemi.json"));
    EXPECT_EQ(response.result(), status::no_content);
    EXPECT_EQ(body(client.get(location)), json::parse(sample("tobias-renwick-adeyemi.json")));

    response = client.get("/addresses");
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(body(response), (json{{location.substr(11), json::parse(sample("tobias-renwick-adeyemi.json"))}}));

    response = client.request(verb::delete_, location);
    EXPECT_EQ(response.result(), status::no_content);
    response = client.get(location);
    EXPECT_EQ(response.result(), status::not_found);
    EXPECT_EQ(body(response)["message"], "Address " + location.substr(11) + " not found");
    EXPECT_EQ(client.request(verb::delete_, location).result(), status::not_found);
    EXPECT_EQ(client.request(verb::put, location, sample("ines-marchetti-sole.json")).result(), status::not_found);
    EXPECT_EQ(body(client.get("/addresses")), json::object());
}

TEST_F(RoutesTest, ErrorBodiesFollowTheContract)
{
    auto response = client.request(verb::put, "/addresses/x", R"({"full_name": "Ines", "addresses": [{"kind": "moon",
        "street_name": "Via Lattea", "pincode": 1, "country": "Freedonia"}]})");
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(response.reason(), "JSON Schema validation failed");
    EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
    EXPECT_EQ(body(response), json::parse(R"({"method": "PUT", "uri": "/addresses/x", "code": 400,
        "message": "JSON Schema validation failed",
        "errors": [{"pointer": "/addresses/0/kind", "message": "must be one of home, work"}]})"));

    response = client.request(verb::post, "/addresses?dry=1", "{\"full_name\": \"\xC3\x28\"}");
    EXPECT_EQ(response.reason(), "Invalid JSON body");
    EXPECT_EQ(body(response)["uri"], "/addresses");

    response = client.request(verb::post, "/addresses/abc");
    EXPECT_EQ(response.result(), status::method_not_allowed);
    EXPECT_EQ(response[field::allow], "GET, HEAD, PUT, PATCH, DELETE");
    EXPECT_EQ(body(response)["message"], "Method Not Allowed");

    response = client.get("/no/such/thing");
    EXPECT_EQ(response.result(), status::not_found);
    EXPECT_EQ(response.reason(), "Unknown Endpoint");
}

TEST_F(RoutesTest, DeepJsonIs400AndTheServerKeepsServing)
{
    const auto response = client.request(verb::post, "/addresses", std::string(100000, '[') + std::string(100000, ']'));
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(body(response)["message"], "Invalid JSON body");
    EXPECT_EQ(client.get("/livez").result(), status::ok);
}

TEST_F(RoutesTest, WhatWasStoredIsWhatComesBack)
{
    const json entry = json::parse(R"({"full_name": "Søren Ødegård 🌍 \"Q\"", "addresses": [{"kind": "home",
        "street_name": "Ærø Vej", "street_number": 0.5, "unit_number": -3, "pincode": "0150", "country": "Norge"}],
        "phone_numbers": [{"kind": "work", "country_code": 47, "local_number": 12345678901234}]})");
    const auto created = client.request(verb::post, "/addresses", entry.dump());
    ASSERT_EQ(created.result(), status::created);
    EXPECT_EQ(body(client.get(std::string(created[field::location]))), entry);
}

}  // namespace
}  // namespace addrservice::testing
