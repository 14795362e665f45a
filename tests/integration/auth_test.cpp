#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"
#include "support/sha256_hex.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

constexpr auto reader_token = "rd-6kQ2xV9pLm4Tz8Hb1Nc5Wf";
constexpr auto writer_token = "wr-Jd3Ys7Gq0Pk2Xe9Ru4Av6M";

/// A tokens file with a read token ("dashboard") and a write token ("deployer"), removed afterwards.
class TokensFile {
public:
    TokensFile()
    {
        dir_.write("tokens", "# test clients\nread " + sha256_hex(reader_token) + " dashboard\nwrite " +
                                 sha256_hex(writer_token) + " deployer\n");
    }
    [[nodiscard]] std::string path() const { return (dir_.path() / "tokens").string(); }

private:
    TempDir dir_{"auth"};
};

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers bearer(const std::string& token)
{
    return {{"Authorization", "Bearer " + token}};
}

class AuthTest : public ::testing::Test {
protected:
    TokensFile tokens;
    TestServer server{Limits{}, std::make_shared<MemoryStore>(), false, AuthConfig{tokens.path()}};
    HttpClient client{server.port()};

    static json body(const ClientResponse& response) { return json::parse(response.body()); }

    /// The location of a new entry, created with the write token.
    std::string create()
    {
        const auto response =
            client.request(verb::post, "/addresses", sample("tobias-renwick-adeyemi.json"), bearer(writer_token));
        EXPECT_EQ(response.result(), status::created);
        return std::string(response[field::location]);
    }
};

TEST_F(AuthTest, NoTokenOrAnUnknownOneIs401WithAChallengeAndTheErrorBody)
{
    for (const auto& headers : {Headers{}, bearer("not-a-token"), bearer(sha256_hex(writer_token)),
                                Headers{{"Authorization", std::string("Basic ") + writer_token}}}) {
        const auto response = client.request(verb::get, "/addresses?limit=5", {}, headers);
        EXPECT_EQ(response.result(), status::unauthorized);
        EXPECT_EQ(response.reason(), "Unauthorized");
        EXPECT_EQ(response[field::www_authenticate], R"(Bearer realm="addrservice")");
        EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
        EXPECT_EQ(body(response),
                  (json{{"method", "GET"}, {"uri", "/addresses"}, {"code", 401}, {"message", "Unauthorized"}}));
        EXPECT_FALSE(header(response, "X-Request-ID").empty());
    }
    // Whatever the path: an unknown one says nothing of what exists.
    EXPECT_EQ(client.request(verb::get, "/nothing-here").result(), status::unauthorized);
    EXPECT_EQ(client.request(verb::delete_, "/addresses/abc").result(), status::unauthorized);
}

TEST_F(AuthTest, AReadTokenReadsAndIsForbiddenToWrite)
{
    const auto location = create();
    EXPECT_EQ(client.request(verb::get, location, {}, bearer(reader_token)).result(), status::ok);
    EXPECT_EQ(client.request(verb::head, "/addresses", {}, bearer(reader_token)).result(), status::ok);
    const auto entry = sample("ines-marchetti-sole.json");
    for (const auto& [method, target] : std::vector<std::pair<verb, std::string>>{
             {verb::post, "/addresses"}, {verb::put, location}, {verb::patch, location}, {verb::delete_, location}}) {
        const auto response = client.request(method, target, entry, bearer(reader_token));
        EXPECT_EQ(response.result(), status::forbidden) << boost::beast::http::to_string(method);
        EXPECT_EQ(response.reason(), "Forbidden");
        EXPECT_EQ(response.count(field::www_authenticate), 0U);
        EXPECT_EQ(body(response)["code"], 403);
        EXPECT_EQ(body(response)["message"], "Forbidden");
        EXPECT_EQ(body(response)["uri"], target);
    }
    // Nothing changed.
    EXPECT_EQ(body(client.request(verb::get, location, {}, bearer(reader_token))),
              json::parse(sample("tobias-renwick-adeyemi.json")));
}

TEST_F(AuthTest, AWriteTokenDoesEverything)
{
    const auto location = create();
    EXPECT_EQ(client.request(verb::put, location, sample("ines-marchetti-sole.json"), bearer(writer_token)).result(),
              status::no_content);
    EXPECT_EQ(
        body(client.request(verb::get, location, {}, {{"Authorization", std::string("bearer  ") + writer_token}})),
        json::parse(sample("ines-marchetti-sole.json")));
    EXPECT_EQ(client.request(verb::delete_, location, {}, bearer(writer_token)).result(), status::no_content);
    EXPECT_EQ(client.request(verb::get, location, {}, bearer(writer_token)).result(), status::not_found);
}

TEST_F(AuthTest, TheProbesAreOpenAndMetricsCountRefusalsByRoute)
{
    for (const char* path : {"/livez", "/readyz", "/healthz", "/livez/"}) {
        EXPECT_EQ(client.get(path).result(), status::ok) << path;
    }
    EXPECT_EQ(client.get("/metrics").result(), status::unauthorized);
    EXPECT_EQ(client.get("/openapi.yaml").result(), status::unauthorized);
    EXPECT_EQ(client.request(verb::post, "/addresses", "{}", bearer(reader_token)).result(), status::forbidden);
    const auto metrics = client.request(verb::get, "/metrics", {}, bearer(reader_token));
    ASSERT_EQ(metrics.result(), status::ok);
    const auto& text = metrics.body();
    EXPECT_NE(text.find(R"(method="GET",route="/metrics",status="401"} 1)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"(method="POST",route="/addresses",status="403"} 1)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"(method="GET",route="/livez",status="200"} 2)"), std::string::npos) << text;
}

TEST_F(AuthTest, TheResponseLineNamesTheClientAndNoLineHoldsTheToken)
{
    create();
    client.request(verb::get, "/addresses", {},
                   {{"Authorization", std::string("Bearer ") + reader_token}, {"X-Request-ID", "read-1"}});
    client.request(verb::delete_, "/addresses/x", {},
                   {{"Authorization", std::string("Bearer ") + reader_token}, {"X-Request-ID", "forbidden-1"}});
    client.request(verb::get, "/addresses", {}, {{"Authorization", "Bearer guessed"}, {"X-Request-ID", "guess-1"}});
    server.stop();
    const auto log = server.log();
    EXPECT_NE(log.find(R"(INFO : req_id="read-1" method="GET" uri="/addresses" ip="127.0.0.1" message="RESPONSE" )"
                       R"(status=200 time_ms=)"),
              std::string::npos)
        << log;
    // The RESPONSE line of a request.
    const auto line_of = [&log](const std::string& request_id) {
        std::istringstream lines(log);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.find("req_id=\"" + request_id + "\" ") != std::string::npos &&
                line.find(R"(message="RESPONSE")") != std::string::npos) {
                return line;
            }
        }
        return std::string("(no RESPONSE line for ") + request_id + ")";
    };
    EXPECT_NE(line_of("read-1").find(R"( client="dashboard")"), std::string::npos) << log;
    EXPECT_NE(line_of("forbidden-1").find(R"(status=403)"), std::string::npos) << log;
    EXPECT_NE(line_of("forbidden-1").find(R"( client="dashboard")"), std::string::npos) << log;
    EXPECT_EQ(line_of("guess-1").find("client="), std::string::npos) << log;
    EXPECT_NE(log.find(R"(client="deployer")"), std::string::npos) << log;
    for (const auto* secret : {reader_token, writer_token, "guessed"}) {
        EXPECT_EQ(log.find(secret), std::string::npos) << secret << "\n" << log;
    }
}

}  // namespace
}  // namespace addrservice::testing
