// Conditional and partial writes over the wire: If-Match, If-None-Match: *, PATCH, and their statuses
// and headers; writers racing with one ETag on the memory and sqlite stores; trace ids in the log.
#include "addrservice/store/memory_store.hpp"
#include "addrservice/store/sqlite_store.hpp"
#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <unistd.h>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

const std::vector<std::pair<std::string, std::string>> merge_patch{{"Content-Type", "application/merge-patch+json"}};
const std::vector<std::pair<std::string, std::string>> json_patch{{"Content-Type", "application/json-patch+json"}};

std::vector<std::pair<std::string, std::string>> with(std::vector<std::pair<std::string, std::string>> headers,
                                                      const std::string& name, const std::string& value)
{
    headers.emplace_back(name, value);
    return headers;
}

class ConditionalWrites : public ::testing::Test {
protected:
    TestServer server;
    HttpClient client{server.port()};

    std::string create()
    {
        const auto response = client.request(verb::post, "/addresses", sample("tobias-renwick-adeyemi.json"));
        EXPECT_EQ(response.result(), status::created);
        return std::string(response[field::location]);
    }

    std::string etag_of(const std::string& location) { return std::string(client.get(location)[field::etag]); }

    static void expect_error(const ClientResponse& response, status code, const std::string& message)
    {
        EXPECT_EQ(response.result(), code) << response.body();
        EXPECT_EQ(response.reason(), message);
        EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
        const auto body = json::parse(response.body());
        EXPECT_EQ(body["code"], static_cast<unsigned>(code));
        EXPECT_EQ(body["message"], message);
    }
};

TEST_F(ConditionalWrites, PutWithTheCurrentEtagReplacesAndAStaleOneIs412)
{
    const auto location = create();
    const auto first = etag_of(location);
    auto response = client.request(verb::put, location, sample("ines-marchetti-sole.json"), {{"If-Match", first}});
    EXPECT_EQ(response.result(), status::no_content);
    const auto second = std::string(response[field::etag]);
    EXPECT_EQ(second, etag_of(location));
    EXPECT_NE(second, first);

    response = client.request(verb::put, location, sample("tobias-renwick-adeyemi.json"), {{"If-Match", first}});
    expect_error(response, status::precondition_failed, "Precondition Failed");
    EXPECT_EQ(response[field::etag], second);
    EXPECT_EQ(json::parse(client.get(location).body()), json::parse(sample("ines-marchetti-sole.json")));

    response = client.request(verb::put, location, sample("tobias-renwick-adeyemi.json"), {{"If-Match", "*"}});
    EXPECT_EQ(response.result(), status::no_content);
}

TEST_F(ConditionalWrites, IfMatchOnAnUnknownIdIs404)
{
    const auto response = client.request(verb::put, "/addresses/nobody-here", sample("tobias-renwick-adeyemi.json"),
                                         {{"If-Match", R"("cbf29ce484222325-2")"}});
    expect_error(response, status::not_found, "Address nobody-here not found");
}

TEST_F(ConditionalWrites, PutWithIfNoneMatchStarIsASafeCreate)
{
    auto response =
        client.request(verb::put, "/addresses/ines-ms", sample("ines-marchetti-sole.json"), {{"If-None-Match", "*"}});
    EXPECT_EQ(response.result(), status::created);
    EXPECT_EQ(response[field::location], "/addresses/ines-ms");
    EXPECT_EQ(response[field::content_length], "0");
    const auto etag = std::string(response[field::etag]);
    EXPECT_EQ(etag, etag_of("/addresses/ines-ms"));

    // A retry of the same create changes nothing.
    response = client.request(verb::put, "/addresses/ines-ms", sample("tobias-renwick-adeyemi.json"),
                              {{"If-None-Match", "*"}});
    expect_error(response, status::precondition_failed, "Precondition Failed");
    EXPECT_EQ(response[field::etag], etag);
    EXPECT_EQ(json::parse(client.get("/addresses/ines-ms").body()), json::parse(sample("ines-marchetti-sole.json")));
}

TEST_F(ConditionalWrites, IfNoneMatchStarWithIfMatchStarNeverWrites)
{
    const std::vector<std::pair<std::string, std::string>> both{{"If-None-Match", "*"}, {"If-Match", "*"}};
    auto response = client.request(verb::put, "/addresses/nobody-yet", sample("ines-marchetti-sole.json"), both);
    expect_error(response, status::not_found, "Address nobody-yet not found");
    EXPECT_EQ(client.get("/addresses/nobody-yet").result(), status::not_found);
    const auto location = create();
    const auto etag = etag_of(location);
    response = client.request(verb::put, location, sample("tobias-renwick-adeyemi.json"), both);
    expect_error(response, status::precondition_failed, "Precondition Failed");
    EXPECT_EQ(etag_of(location), etag);
}

TEST_F(ConditionalWrites, DeleteWithIfMatch)
{
    const auto location = create();
    auto response = client.request(verb::delete_, location, {}, {{"If-Match", R"("0123456789abcdef-5")"}});
    expect_error(response, status::precondition_failed, "Precondition Failed");
    EXPECT_EQ(response[field::etag], etag_of(location));
    response = client.request(verb::delete_, location, {}, {{"If-Match", etag_of(location)}});
    EXPECT_EQ(response.result(), status::no_content);
    EXPECT_EQ(client.get(location).result(), status::not_found);
}

TEST_F(ConditionalWrites, MergePatchChangesPartOfAnEntry)
{
    const auto location = create();
    const auto response = client.request(verb::patch, location,
                                         R"({"emails": [{"kind": "work", "email": "tobias@observatory.example"}],
                                             "phone_numbers": null})",
                                         merge_patch);
    EXPECT_EQ(response.result(), status::no_content);
    EXPECT_EQ(response.count(field::content_length), 0U);
    EXPECT_EQ(response[field::etag], etag_of(location));
    auto expected = json::parse(sample("tobias-renwick-adeyemi.json"));
    expected["emails"] = json::parse(R"([{"kind": "work", "email": "tobias@observatory.example"}])");
    expected.erase("phone_numbers");
    EXPECT_EQ(json::parse(client.get(location).body()), expected);
}

TEST_F(ConditionalWrites, JsonPatchAppliesInOrderOrIs409)
{
    const auto location = create();
    auto response = client.request(verb::patch, location,
                                   R"([{"op": "test", "path": "/full_name", "value": "Tobias Renwick-Adeyemi"},
                                       {"op": "replace", "path": "/full_name", "value": "Tobias R. Adeyemi"}])",
                                   json_patch);
    EXPECT_EQ(response.result(), status::no_content);
    EXPECT_EQ(json::parse(client.get(location).body())["full_name"], "Tobias R. Adeyemi");
    const auto etag = etag_of(location);

    response =
        client.request(verb::patch, location,
                       R"([{"op": "test", "path": "/full_name", "value": "Tobias Renwick-Adeyemi"}])", json_patch);
    expect_error(response, status::conflict, "Conflict");
    response = client.request(verb::patch, location, R"([{"op": "remove", "path": "/fax_numbers"}])", json_patch);
    expect_error(response, status::conflict, "Conflict");
    EXPECT_EQ(etag_of(location), etag);
}

TEST_F(ConditionalWrites, PatchErrorsHaveTheirStatuses)
{
    const auto location = create();
    auto response = client.request(verb::patch, location, R"({"full_name": "X"})", {{"Content-Type", "text/plain"}});
    expect_error(response, status::unsupported_media_type, "Unsupported Media Type");
    EXPECT_EQ(response["Accept-Patch"], "application/merge-patch+json, application/json-patch+json");

    response = client.request(verb::patch, location, "full_name=X", merge_patch);
    expect_error(response, status::bad_request, "Invalid JSON body");

    // An operation whose "op" is given twice is neither: nothing applies.
    const auto before = client.get(location).body();
    response = client.request(verb::patch, location,
                              R"([{"op": "test", "op": "replace", "path": "/full_name", "value": "X"}])", json_patch);
    expect_error(response, status::bad_request, "Invalid JSON body");
    EXPECT_EQ(client.get(location).body(), before);

    response = client.request(verb::patch, location, R"({"addresses": [{"kind": "moon"}]})", merge_patch);
    expect_error(response, status::bad_request, "JSON Schema validation failed");
    EXPECT_EQ(json::parse(response.body())["errors"].back()["pointer"], "/addresses/0/kind");

    response = client.request(verb::patch, "/addresses/nobody-here", R"({"full_name": "X"})", merge_patch);
    expect_error(response, status::not_found, "Address nobody-here not found");

    response = client.request(verb::patch, location, R"({"full_name": "X"})",
                              with(merge_patch, "If-Match", R"("0123456789abcdef-5")"));
    expect_error(response, status::precondition_failed, "Precondition Failed");
    EXPECT_EQ(response[field::etag], etag_of(location));
}

TEST_F(ConditionalWrites, APatchBodyOverTheLimitIs413)
{
    Limits limits;
    limits.max_body_bytes = 1024;
    TestServer small(limits);
    HttpClient small_client(small.port());
    const auto location =
        std::string(small_client.request(verb::post, "/addresses", R"({"full_name": "Wren"})")[field::location]);
    const auto response = small_client.request(verb::patch, location,
                                               R"({"full_name": ")" + std::string(2000, 'w') + R"("})", merge_patch);
    expect_error(response, status::payload_too_large, "Payload Too Large");
}

TEST_F(ConditionalWrites, ATraceparentPutsItsTraceIdOnTheResponseLine)
{
    client.request(
        verb::get, "/livez", {},
        {{"X-Request-ID", "traced-1"}, {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
    client.request(verb::get, "/livez", {},
                   {{"X-Request-ID", "traced-2"}, {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71"}});
    server.stop();
    const auto log = server.log();
    const auto line_of = [&log](const std::string& id) {
        const auto at = log.find("req_id=\"" + id +
                                 "\" method=\"GET\" uri=\"/livez\" ip=\"127.0.0.1\" "
                                 "message=\"RESPONSE\"");
        return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
    };
    EXPECT_NE(line_of("traced-1").find(R"(trace_id="0af7651916cd43dd8448eb211c80319c")"), std::string::npos) << log;
    ASSERT_FALSE(line_of("traced-2").empty()) << log;
    EXPECT_EQ(line_of("traced-2").find("trace_id"), std::string::npos);
}

/// A store for the race, over a scratch directory that it removes.
struct RaceStore {
    std::string name;
    std::function<std::shared_ptr<AddressStore>(const std::filesystem::path&)> make;
};

void PrintTo(const RaceStore& store, std::ostream* os)
{
    *os << store.name;
}

class Racing : public ::testing::TestWithParam<RaceStore> {
protected:
    void SetUp() override
    {
        dir_ = std::filesystem::temp_directory_path() / ("addrservice-race-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        server_ = std::make_unique<TestServer>(Limits{}, GetParam().make(dir_));
    }
    void TearDown() override
    {
        server_.reset();
        std::filesystem::remove_all(dir_);
    }

    /// Sends one request on each of count connections before reading any answer, so that they are all
    /// in flight together; returns the answers.
    std::vector<ClientResponse> all_at_once(int count, const std::function<std::string(int)>& request)
    {
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (int i = 0; i < count; ++i) {
            clients.push_back(std::make_unique<HttpClient>(server_->port()));
        }
        for (int i = 0; i < count; ++i) {
            clients[static_cast<std::size_t>(i)]->write_raw(request(i));
        }
        std::vector<ClientResponse> responses;
        for (auto& racer : clients) {
            responses.push_back(racer->read_response());
        }
        return responses;
    }

    std::unique_ptr<TestServer> server_;

private:
    std::filesystem::path dir_;
};

std::string raw(const std::string& method, const std::string& target, const std::string& body,
                const std::string& headers)
{
    return method + " " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           headers + "\r\n" + body;
}

TEST_P(Racing, OfTwentyPutsWithOneEtagExactlyOneWins)
{
    HttpClient client(server_->port());
    const auto location =
        std::string(client.request(verb::post, "/addresses", R"({"full_name": "Start"})")[field::location]);
    const auto etag = std::string(client.get(location)[field::etag]);
    const auto responses = all_at_once(20, [&](int i) {
        return raw("PUT", location, R"({"full_name": "Writer )" + std::to_string(i) + R"("})",
                   "If-Match: " + etag + "\r\n");
    });
    std::vector<std::string> winners;
    for (std::size_t i = 0; i < responses.size(); ++i) {
        if (responses[i].result() == status::no_content) {
            winners.push_back("Writer " + std::to_string(i));
        } else {
            EXPECT_EQ(responses[i].result(), status::precondition_failed);
        }
    }
    ASSERT_EQ(winners.size(), 1U);
    const auto current = client.get(location);
    EXPECT_EQ(json::parse(current.body())["full_name"], winners.front());
    for (const auto& response : responses) {
        EXPECT_EQ(response[field::etag], current[field::etag]);
    }
}

TEST_P(Racing, MorePatchesOfOneEntryAtOnceThanAPatchHasTriesAllApply)
{
    // 48 clients: more than the 32 tries a patch has when it races.
    constexpr int clients = 48;
    HttpClient client(server_->port());
    const auto location = std::string(
        client.request(verb::post, "/addresses", R"({"full_name": "Start", "emails": []})")[field::location]);
    const auto responses = all_at_once(clients, [&](int i) {
        return raw("PATCH", location,
                   R"([{"op": "add", "path": "/emails/-", "value": {"kind": "home", "email": "w)" + std::to_string(i) +
                       R"(@example.org"}}])",
                   "Content-Type: application/json-patch+json\r\n");
    });
    for (const auto& response : responses) {
        EXPECT_EQ(response.result(), status::no_content);
    }
    // Each patch applied to the entry as the one before left it: none lost.
    EXPECT_EQ(json::parse(client.get(location).body())["emails"].size(), static_cast<std::size_t>(clients));
}

INSTANTIATE_TEST_SUITE_P(
    Stores, Racing,
    ::testing::Values(RaceStore{"memory", [](const std::filesystem::path&) { return std::make_shared<MemoryStore>(); }},
                      RaceStore{"sqlite",
                                [](const std::filesystem::path& dir) {
                                    return std::make_shared<SqliteStore>((dir / "book.db").string());
                                }}),
    [](const ::testing::TestParamInfo<RaceStore>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace addrservice::testing
