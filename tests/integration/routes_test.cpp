#include "addrservice/store/fs_store.hpp"
#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <filesystem>
#include <regex>
#include <unistd.h>

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

TEST_F(RoutesTest, ANameTwiceInOneObjectIs400AndNothingIsStored)
{
    auto response = client.request(verb::post, "/addresses", R"({"full_name": "Ines", "full_name": "Ida"})");
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(body(response)["message"], "Invalid JSON body");
    response = client.request(verb::put, "/addresses/ines", R"({"full_name": "Ines", "emails": [
        {"kind": "home", "email": "ines@example.org", "kind": "work"}]})");
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(body(response)["message"], "Invalid JSON body");
    EXPECT_EQ(client.get("/addresses").body(), "{}");
}

TEST_F(RoutesTest, EscapedLettersAndDigitsInThePathAreTheLettersAndDigits)
{
    const auto created = client.request(verb::post, "/addresses", R"({"full_name": "Ines"})");
    ASSERT_EQ(created.result(), status::created);
    const auto location = std::string(created[field::location]);
    const auto id = location.substr(location.rfind('/') + 1);
    std::ostringstream escaped;
    escaped << "/addr%65sses/%" << std::hex << static_cast<int>(id[0]) << id.substr(1);
    const auto response = client.get(escaped.str());
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(body(response)["full_name"], "Ines");
    // An escaped slash is no separator, and no id holds it.
    EXPECT_EQ(body(client.get("/addresses/a%2Fb"))["message"], "Unknown Endpoint");
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

TEST(RoutesOnFsStore, AnIdTooLongForAFileNameIsNotFound)
{
    const auto dir = std::filesystem::temp_directory_path() / ("addrservice-routes-fs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
        TestServer server({}, std::make_shared<FsStore>(dir.string()));
        HttpClient client(server.port());
        const std::string id(300, 'x');
        const std::string uri = "/addresses/" + id;
        for (const auto method : {verb::get, verb::put, verb::delete_}) {
            const auto response =
                client.request(method, uri, method == verb::put ? sample("ines-marchetti-sole.json") : "");
            EXPECT_EQ(response.result(), status::not_found) << method;
            EXPECT_EQ(json::parse(response.body()),
                      (json{{"method", std::string(boost::beast::http::to_string(method))},
                            {"uri", uri},
                            {"code", 404},
                            {"message", "Address " + id.substr(0, 64) + "... not found"}}))
                << method;
        }
        EXPECT_EQ(client.get("/readyz").result(), status::ok);
    }
    std::filesystem::remove_all(dir);
}

TEST_F(RoutesTest, AnArrayAsTheEmailIs400AndTheServerKeepsServing)
{
    const std::string entry = R"({"full_name":"x","emails":[{"kind":"home","email":[1]}]})";
    const auto expected = json::parse(R"({"method": "POST", "uri": "/addresses", "code": 400,
        "message": "JSON Schema validation failed",
        "errors": [{"pointer": "/emails/0/email", "message": "must be of type string"}]})");
    auto response =
        client.request(verb::post, "/addresses", entry, {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(body(response), expected);
    response =
        client.request(verb::put, "/addresses/0000", R"({"full_name":"x","emails":[{"kind":"home","email":{"a":1}}]})");
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(body(response)["errors"], expected["errors"]);
    EXPECT_EQ(client.get("/livez").result(), status::ok);
    EXPECT_EQ(client.request(verb::post, "/addresses", R"({"full_name":"x"})").result(), status::created);
}

TEST_F(RoutesTest, IntegersOfAnySizeComeBackDigitForDigit)
{
    const std::string entry =
        R"({"addresses":[{"country":"Freedonia","kind":"home","pincode":12345678901234567890123,"street_name":"Elm Row"}],)"
        R"("full_name":"x","phone_numbers":[{"country_code":-18446744073709551616,"kind":"work","local_number":18446744073709551615}]})";
    const auto created = client.request(verb::post, "/addresses", entry);
    ASSERT_EQ(created.result(), status::created);
    EXPECT_EQ(client.get(std::string(created[field::location])).body(), entry);
}

}  // namespace
}  // namespace addrservice::testing
