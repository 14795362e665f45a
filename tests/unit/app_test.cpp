#include "server/app.hpp"
#include "addrservice/errors.hpp"
#include "addrservice/store/memory_store.hpp"
#include "server/gzip.hpp"
#include "support/run_task.hpp"
#include "support/samples.hpp"
#include "support/test_stores.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace addrservice::http {
namespace {

using boost::beast::http::field;
using boost::beast::http::verb;
using nlohmann::json;

/// A store that fails every operation, as a broken disk would.
std::shared_ptr<AddressStore> broken_store()
{
    return std::make_shared<testing::ThrowingStore<StoreError>>("broken", "disk on fire");
}

/// A store whose database cannot be reached just now.
std::shared_ptr<AddressStore> unavailable_store()
{
    return std::make_shared<testing::ThrowingStore<StoreUnavailableError>>("unavailable", "db: down");
}

/// A store that remembers the ids it was asked to read, and holds none of them.
class RecordingStore final : public testing::EmptyStore {
public:
    std::vector<std::string> reads;

    Task<EntryPtr> read(std::string id) override
    {
        reads.push_back(std::move(id));
        co_return nullptr;
    }
};

/// A store holding one entry whose ETag is as long as a header field value may be: its gzip ETag, one
/// suffix longer, no longer fits in a field. A fault that happens only once the handler has answered.
class OverlongEtagStore final : public testing::EmptyStore {
public:
    Task<EntryPtr> read(std::string /*id*/) override
    {
        co_return std::make_shared<const StoredEntry>(
            StoredEntry{R"({"full_name":")" + std::string(2000, 'a') + R"("})", '"' + std::string(65528, 'e') + '"'});
    }
    [[nodiscard]] std::size_t size() const noexcept override { return 1; }
};

class AppTest : public ::testing::Test {
protected:
    explicit AppTest(std::shared_ptr<AddressStore> store = std::make_shared<MemoryStore>(), bool debug = false)
        : service(std::move(store), ServiceOptions{4096, 1000}),
          logger(log_config(), log),
          app(service, logger, AppOptions{debug, 4096, {}})
    {
    }

    static LoggingConfig log_config()
    {
        LoggingConfig config;
        config.async = false;
        config.console = ConsoleFormat::detailed;
        config.level = LogLevel::debug;
        return config;
    }

    Response call(verb method, std::string target, std::string body = {},
                  const std::vector<std::pair<std::string, std::string>>& headers = {}, unsigned version = 11)
    {
        Request request{method, target, version};
        for (const auto& [name, value] : headers) {
            request.set(name, value);
        }
        request.body() = std::move(body);
        request.prepare_payload();
        return testing::run_task(app.handle(std::move(request), "192.0.2.7"));
    }

    std::string create(std::size_t sample = 0)
    {
        const auto response = call(verb::post, "/addresses", testing::read_file(testing::sample_files().at(sample)));
        EXPECT_EQ(response.result(), Status::created);
        return std::string(response[field::location]);
    }

    static json body(const Response& response) { return json::parse(body_of(response)); }

    std::ostringstream log;
    AddressService service;
    Logger logger;
    App app;
};

TEST_F(AppTest, UnknownPathIs404UnknownEndpoint)
{
    const auto response = call(verb::get, "/anything?x=1");
    EXPECT_EQ(response.result(), Status::not_found);
    EXPECT_EQ(response.reason(), "Unknown Endpoint");
    EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
    EXPECT_EQ(body(response),
              (json{{"method", "GET"}, {"uri", "/anything"}, {"code", 404}, {"message", "Unknown Endpoint"}}));
}

TEST_F(AppTest, PostCreatesAndLocationLeadsToTheEntry)
{
    const auto location = create();
    EXPECT_TRUE(location.starts_with("/addresses/"));
    const auto response = call(verb::get, location);
    EXPECT_EQ(response.result(), Status::ok);
    EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
    EXPECT_EQ(body(response), json::parse(testing::read_file(testing::sample_files().at(0))));
}

TEST_F(AppTest, TrailingSlashIsAcceptedOnEveryRoute)
{
    const auto location = create();
    EXPECT_EQ(call(verb::get, location + "/").result(), Status::ok);
    EXPECT_EQ(call(verb::get, "/addresses/").result(), Status::ok);
    EXPECT_EQ(call(verb::get, "/livez/").result(), Status::ok);
    EXPECT_EQ(call(verb::get, "/addresses//").result(), Status::not_found);
}

TEST_F(AppTest, IdsOutsideTheirAlphabetAreUnknownEndpoints)
{
    EXPECT_EQ(call(verb::get, "/addresses/a_b").reason(), "Unknown Endpoint");
    EXPECT_EQ(call(verb::get, "/addresses/a.b").reason(), "Unknown Endpoint");
    EXPECT_EQ(call(verb::get, "/addresses/a/b").reason(), "Unknown Endpoint");
    EXPECT_EQ(call(verb::get, "/addresses/Ab-9").reason(), "Address Ab-9 not found");
}

TEST_F(AppTest, OtherMethodOnAKnownPathIs405WithAllow)
{
    auto response = call(verb::delete_, "/addresses");
    EXPECT_EQ(response.result(), Status::method_not_allowed);
    EXPECT_EQ(response[field::allow], "GET, HEAD, POST");
    EXPECT_EQ(body(response)["message"], "Method Not Allowed");
    response = call(verb::post, "/addresses/abc");
    EXPECT_EQ(response[field::allow], "GET, HEAD, PUT, PATCH, DELETE");
    response = call(verb::patch, "/livez");
    EXPECT_EQ(response[field::allow], "GET, HEAD");
}

TEST_F(AppTest, InvalidJsonIs400)
{
    const auto response = call(verb::post, "/addresses", "full_name=Ada");
    EXPECT_EQ(response.result(), Status::bad_request);
    EXPECT_EQ(response.reason(), "Invalid JSON body");
    EXPECT_FALSE(body(response).contains("trace"));
    EXPECT_FALSE(body(response).contains("errors"));
}

TEST_F(AppTest, SchemaFailureListsEveryViolation)
{
    const auto response = call(verb::post, "/addresses", R"({"addresses": [{"kind": "holiday"}]})");
    EXPECT_EQ(response.result(), Status::bad_request);
    EXPECT_EQ(response.reason(), "JSON Schema validation failed");
    const auto errors = body(response)["errors"];
    EXPECT_EQ(errors.size(), 5U);
    EXPECT_EQ(errors[0], (json{{"pointer", ""}, {"message", "missing required property 'full_name'"}}));
    EXPECT_EQ(errors[4], (json{{"pointer", "/addresses/0/kind"}, {"message", "must be one of home, work"}}));
}

TEST_F(AppTest, PutReplacesDeleteRemoves)
{
    const auto location = create(0);
    auto response = call(verb::put, location, testing::read_file(testing::sample_files().at(1)));
    EXPECT_EQ(response.result(), Status::no_content);
    EXPECT_EQ(response.count(field::content_length), 0U);
    EXPECT_EQ(body(call(verb::get, location)), json::parse(testing::read_file(testing::sample_files().at(1))));
    EXPECT_EQ(call(verb::delete_, location).result(), Status::no_content);
    response = call(verb::get, location);
    EXPECT_EQ(response.result(), Status::not_found);
    EXPECT_EQ(response.reason(), "Address " + location.substr(11) + " not found");
}

TEST_F(AppTest, NotFoundEchoesAtMost64CharactersOfTheId)
{
    const std::string id(300, 'a');
    auto response = call(verb::get, "/addresses/" + id + "?x=1");
    EXPECT_EQ(response.result(), Status::not_found);
    const auto expected = "Address " + std::string(64, 'a') + "... not found";
    EXPECT_EQ(response.reason(), expected);
    EXPECT_EQ(body(response)["message"], expected);
    EXPECT_EQ(body(response)["uri"], "/addresses/" + id);
    // Up to 64 characters, the id is echoed whole.
    response = call(verb::get, "/addresses/" + std::string(64, 'b'));
    EXPECT_EQ(response.reason(), "Address " + std::string(64, 'b') + " not found");
}

TEST(ReasonPhrase, ControlCharactersBecomeSpaces)
{
    EXPECT_EQ(reason_phrase("Bad\r\nSet-Cookie: x\x01\x7f\tend"), "Bad  Set-Cookie: x   end");
    EXPECT_EQ(reason_phrase("Address caf\xc3\xa9 not found"), "Address caf\xc3\xa9 not found");
}

class OverlongEtagTest : public AppTest {
protected:
    OverlongEtagTest() : AppTest(std::make_shared<OverlongEtagStore>()) {}
};

TEST_F(OverlongEtagTest, AFaultAfterTheHandlerIsA500AndLogged)
{
    const auto plain = call(verb::get, "/addresses/abc");
    EXPECT_EQ(plain.result(), Status::ok);  // the ETag itself fits
    const auto response = call(verb::get, "/addresses/abc", {}, {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(response.result(), Status::internal_server_error);
    EXPECT_EQ(response.reason(), "Internal Server Error");
    EXPECT_EQ(body(response)["message"], "Internal Server Error");
    EXPECT_EQ(body(response)["uri"], "/addresses/abc");
    EXPECT_EQ(response[field::content_length], std::to_string(body_of(response).size()));
    EXPECT_FALSE(response["X-Request-ID"].empty());
    EXPECT_NE(log.str().find(R"(message="RESPONSE" status=500)"), std::string::npos) << log.str();
    EXPECT_EQ(call(verb::get, "/livez").result(), Status::ok);
}

class RecordingStoreTest : public AppTest {
protected:
    explicit RecordingStoreTest(const std::shared_ptr<RecordingStore>& store = std::make_shared<RecordingStore>())
        : AppTest(store), recording(store)
    {
    }
    std::shared_ptr<RecordingStore> recording;
};

TEST_F(RecordingStoreTest, ALongIdReachesTheServiceWhole)
{
    // Longer than any small-string buffer: the id must be copied out of the request before the
    // request moves into the handler (AddressSanitizer builds check the reads).
    const std::string id = "x" + std::string(500, '7') + "-y";
    EXPECT_EQ(call(verb::get, "/addresses/" + id + "/?q=" + std::string(300, 'q')).result(), Status::not_found);
    ASSERT_EQ(recording->reads.size(), 1U);
    EXPECT_EQ(recording->reads.front(), id);
}

TEST_F(AppTest, AbsoluteFormTargetsAreRoutedByTheirPath)
{
    EXPECT_EQ(call(verb::get, "http://example.org/livez").result(), Status::ok);
    const auto response = call(verb::get, "https://example.org:8443/nope?x=1");
    EXPECT_EQ(response.result(), Status::not_found);
    EXPECT_EQ(body(response)["uri"], "/nope");
}

TEST_F(AppTest, PutWithInvalidBodyToUnknownIdIs400)
{
    EXPECT_EQ(call(verb::put, "/addresses/nope", R"({"x":1})").result(), Status::bad_request);
    EXPECT_EQ(call(verb::put, "/addresses/nope", R"({"full_name":"Ada"})").result(), Status::not_found);
}

TEST_F(AppTest, EveryResponseHasDateServerAndRequestId)
{
    for (const auto& response : {call(verb::get, "/addresses"), call(verb::get, "/nope")}) {
        EXPECT_FALSE(response[field::date].empty());
        EXPECT_EQ(response[field::server].substr(0, 12), "addrservice/");
        EXPECT_EQ(response["X-Request-ID"].size(), 32U);
        EXPECT_EQ(response[field::content_length], std::to_string(body_of(response).size()));
    }
}

TEST_F(AppTest, ClientRequestIdIsKeptWhenValid)
{
    EXPECT_EQ(call(verb::get, "/livez", {}, {{"X-Request-ID", "trace.me_1-2"}})["X-Request-ID"], "trace.me_1-2");
    const auto replaced = call(verb::get, "/livez", {}, {{"X-Request-ID", "bad id!"}})["X-Request-ID"];
    EXPECT_EQ(replaced.size(), 32U);
    const auto too_long = call(verb::get, "/livez", {}, {{"X-Request-ID", std::string(129, 'a')}});
    EXPECT_EQ(too_long["X-Request-ID"].size(), 32U);
    EXPECT_EQ(call(verb::get, "/livez", {}, {{"X-Request-ID", std::string(128, 'a')}})["X-Request-ID"],
              std::string(128, 'a'));
}

TEST_F(AppTest, EtagAndIfNoneMatchGive304)
{
    const auto location = create();
    const auto first = call(verb::get, location);
    const auto etag = std::string(first[field::etag]);
    ASSERT_FALSE(etag.empty());
    const auto again = call(verb::get, location, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.result(), Status::not_modified);
    EXPECT_TRUE(body_of(again).empty());
    EXPECT_EQ(again.count(field::content_length), 0U);
    EXPECT_EQ(again[field::etag], etag);
    EXPECT_EQ(call(verb::get, location, {}, {{"If-None-Match", "\"other\", " + etag}}).result(), Status::not_modified);
    EXPECT_EQ(call(verb::get, location, {}, {{"If-None-Match", "\"other\""}}).result(), Status::ok);
    const auto list = call(verb::get, "/addresses");
    EXPECT_EQ(call(verb::get, "/addresses", {}, {{"If-None-Match", std::string(list[field::etag])}}).result(),
              Status::not_modified);
}

TEST_F(AppTest, GzipForLargeJsonBodiesWithItsOwnEtag)
{
    create(0);
    create(1);
    create(2);
    const auto plain = call(verb::get, "/addresses");
    ASSERT_GE(body_of(plain).size(), 1024U);
    const auto zipped = call(verb::get, "/addresses", {}, {{"Accept-Encoding", "br, gzip;q=0.8"}});
    EXPECT_EQ(zipped[field::content_encoding], "gzip");
    EXPECT_EQ(zipped[field::vary], "Accept-Encoding");
    EXPECT_NE(zipped[field::etag], plain[field::etag]);
    EXPECT_EQ(gzip_decompress(body_of(zipped), 1 << 20), body_of(plain));
    EXPECT_EQ(call(verb::get, "/addresses", {},
                   {{"Accept-Encoding", "gzip"}, {"If-None-Match", std::string(zipped[field::etag])}})
                  .result(),
              Status::not_modified);
    EXPECT_EQ(call(verb::get, "/addresses", {}, {{"Accept-Encoding", "gzip;q=0"}}).count(field::content_encoding), 0U);
}

TEST_F(AppTest, ALargeErrorBodyIsGzippedToo)
{
    json entry = json::parse(testing::read_file(testing::sample_files().at(0)));
    entry["emails"] = json::array();
    for (int i = 0; i < 30; ++i) {
        entry["emails"].push_back({{"kind", "work"}, {"email", "not an address " + std::to_string(i)}});
    }
    const auto plain = call(verb::post, "/addresses", entry.dump());
    ASSERT_EQ(plain.result(), Status::bad_request);
    ASSERT_GE(body_of(plain).size(), 1024U);
    EXPECT_EQ(plain.count(field::content_encoding), 0U);
    const auto zipped = call(verb::post, "/addresses", entry.dump(), {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(zipped.result(), Status::bad_request);
    EXPECT_EQ(zipped[field::content_encoding], "gzip");
    EXPECT_EQ(zipped[field::vary], "Accept-Encoding");
    EXPECT_EQ(zipped[field::content_length], std::to_string(body_of(zipped).size()));
    const auto inflated = gzip_decompress(body_of(zipped), 1 << 20);
    ASSERT_TRUE(inflated.has_value());
    EXPECT_EQ(json::parse(*inflated), json::parse(body_of(plain)));
    // A small error stays as it is.
    const auto missing = call(verb::get, "/addresses/nobody", {}, {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(missing.result(), Status::not_found);
    EXPECT_EQ(missing.count(field::content_encoding), 0U);
}

TEST_F(AppTest, SmallBodiesAreNotGzipped)
{
    const auto location = create(2);
    const auto response = call(verb::get, location, {}, {{"Accept-Encoding", "gzip"}});
    ASSERT_LT(body_of(response).size(), 1024U);
    EXPECT_EQ(response.count(field::content_encoding), 0U);
}

TEST_F(AppTest, GzipRequestBodyIsInflated)
{
    const auto entry = testing::read_file(testing::sample_files().at(0));
    auto response = call(verb::post, "/addresses", gzip_compress(entry), {{"Content-Encoding", "gzip"}});
    EXPECT_EQ(response.result(), Status::created);
    EXPECT_EQ(body(call(verb::get, std::string(response[field::location]))), json::parse(entry));
    // 4096 bytes is this App's limit, and the inflated size counts.
    response =
        call(verb::post, "/addresses", gzip_compress(std::string(5000, ' ') + entry), {{"Content-Encoding", "gzip"}});
    EXPECT_EQ(response.result(), Status::payload_too_large);
    EXPECT_EQ(response.reason(), "Payload Too Large");
    response = call(verb::post, "/addresses", "not gzip", {{"Content-Encoding", "gzip"}});
    EXPECT_EQ(response.reason(), "Invalid JSON body");
    response = call(verb::post, "/addresses", entry, {{"Content-Encoding", "br"}});
    EXPECT_EQ(response.result(), Status::unsupported_media_type);
    EXPECT_EQ(response[field::accept_encoding], "gzip");  // what it may send instead (RFC 7694)
}

TEST_F(AppTest, HeadHasGetHeadersAndNoBody)
{
    const auto location = create();
    const auto get = call(verb::get, location);
    const auto head = call(verb::head, location);
    EXPECT_EQ(head.result(), Status::ok);
    EXPECT_TRUE(body_of(head).empty());
    EXPECT_EQ(head[field::content_length], std::to_string(body_of(get).size()));
    EXPECT_EQ(head[field::etag], get[field::etag]);
    EXPECT_EQ(call(verb::head, "/addresses").result(), Status::ok);
    EXPECT_EQ(call(verb::head, "/nope").result(), Status::not_found);
}

TEST_F(AppTest, Http10ClosesUnlessAskedToKeepAlive)
{
    EXPECT_FALSE(call(verb::get, "/livez", {}, {}, 10).keep_alive());
    EXPECT_TRUE(call(verb::get, "/livez", {}, {{"Connection", "keep-alive"}}, 10).keep_alive());
    EXPECT_TRUE(call(verb::get, "/livez").keep_alive());
    EXPECT_FALSE(call(verb::get, "/livez", {}, {{"Connection", "close"}}).keep_alive());
}

TEST_F(AppTest, ProbesAnswerAndReadinessTurns503WhenDraining)
{
    EXPECT_EQ(body_of(call(verb::get, "/livez")), R"({"status":"ok"})");
    EXPECT_EQ(call(verb::get, "/readyz").result(), Status::ok);
    EXPECT_EQ(call(verb::get, "/healthz").result(), Status::ok);
    app.set_draining();
    EXPECT_TRUE(app.draining());
    EXPECT_EQ(call(verb::get, "/readyz").result(), Status::service_unavailable);
    EXPECT_EQ(call(verb::get, "/livez").result(), Status::ok);
}

TEST_F(AppTest, RejectBuildsALoggedErrorThatCloses)
{
    const auto response = app.reject(RejectedRequest{"POST", "/addresses?x", "192.0.2.7", "", 11},
                                     Status::payload_too_large, "Payload Too Large");
    EXPECT_EQ(response.result(), Status::payload_too_large);
    EXPECT_FALSE(response.keep_alive());
    EXPECT_EQ(body(response)["uri"], "/addresses");
    EXPECT_NE(log.str().find(R"(method="POST" uri="/addresses" ip="192.0.2.7" message="RESPONSE" status=413)"),
              std::string::npos)
        << log.str();
}

TEST_F(AppTest, OneCanonicalLinePerRequestAtItsLevel)
{
    call(verb::get, "/livez", {}, {{"X-Request-ID", "req-1"}});
    call(verb::get, "/nope", {}, {{"X-Request-ID", "req-2"}});
    const auto text = log.str();
    EXPECT_NE(text.find(R"(DEBUG : req_id="req-1" method="GET" uri="/livez" ip="192.0.2.7" message="REQUEST")"),
              std::string::npos);
    EXPECT_NE(
        text.find(
            R"(INFO : req_id="req-1" method="GET" uri="/livez" ip="192.0.2.7" message="RESPONSE" status=200 time_ms=)"),
        std::string::npos);
    EXPECT_NE(
        text.find(R"(WARNING : req_id="req-2" method="GET" uri="/nope" ip="192.0.2.7" message="RESPONSE" status=404)"),
        std::string::npos);
}

TEST_F(AppTest, PutAndPatchAnswer204WithTheNewEtag)
{
    const auto location = create(0);
    auto response = call(verb::put, location, testing::read_file(testing::sample_files().at(1)));
    EXPECT_EQ(response.result(), Status::no_content);
    EXPECT_EQ(response[field::etag], call(verb::get, location)[field::etag]);
    response = call(verb::patch, location, R"({"full_name": "Wren Halloway"})",
                    {{"Content-Type", "application/merge-patch+json; charset=UTF-8"}});
    EXPECT_EQ(response.result(), Status::no_content);
    const auto get = call(verb::get, location);
    EXPECT_EQ(response[field::etag], get[field::etag]);
    EXPECT_EQ(body(get)["full_name"], "Wren Halloway");
}

TEST_F(AppTest, IfMatchThatNamesAnotherEtagIs412WithTheCurrentOne)
{
    const auto location = create(0);
    const auto current = std::string(call(verb::get, location)[field::etag]);
    const auto entry = testing::read_file(testing::sample_files().at(1));
    for (const auto method : {verb::put, verb::patch, verb::delete_}) {
        const auto response =
            call(method, location, method == verb::patch ? "{}" : entry,
                 {{"If-Match", R"("0000000000000000-1")"}, {"Content-Type", "application/merge-patch+json"}});
        EXPECT_EQ(response.result(), Status::precondition_failed) << method;
        EXPECT_EQ(response.reason(), "Precondition Failed");
        EXPECT_EQ(response[field::etag], current);
        EXPECT_EQ(body(response)["message"], "Precondition Failed");
        EXPECT_EQ(body(response)["code"], 412);
    }
    // A weak tag never matches for a write, nor does the gzip representation's.
    EXPECT_EQ(call(verb::delete_, location, {}, {{"If-Match", "W/" + current}}).result(), Status::precondition_failed);
    EXPECT_EQ(call(verb::get, location)[field::etag], current);
    EXPECT_EQ(call(verb::delete_, location, {}, {{"If-Match", R"("x", )" + current}}).result(), Status::no_content);
}

TEST_F(AppTest, IfMatchOnAnUnknownIdIs404)
{
    EXPECT_EQ(call(verb::delete_, "/addresses/nobody", {}, {{"If-Match", R"("a-1")"}}).result(), Status::not_found);
    EXPECT_EQ(call(verb::delete_, "/addresses/nobody", {}, {{"If-Match", "*"}}).result(), Status::not_found);
}

TEST_F(AppTest, PutWithIfNoneMatchStarCreatesAtTheIdOr412)
{
    const auto entry = testing::read_file(testing::sample_files().at(0));
    auto response = call(verb::put, "/addresses/wren-h", entry, {{"If-None-Match", "*"}});
    EXPECT_EQ(response.result(), Status::created);
    EXPECT_EQ(response[field::location], "/addresses/wren-h");
    EXPECT_EQ(response[field::etag], call(verb::get, "/addresses/wren-h")[field::etag]);
    response = call(verb::put, "/addresses/wren-h/", entry, {{"If-None-Match", "*"}});
    EXPECT_EQ(response.result(), Status::precondition_failed);
    EXPECT_EQ(response[field::etag], call(verb::get, "/addresses/wren-h")[field::etag]);
}

TEST_F(AppTest, PatchOfAnotherMediaTypeIs415WithAcceptPatch)
{
    const auto location = create(0);
    for (const char* type : {"application/json", "text/plain", ""}) {
        const auto response = call(verb::patch, location, R"({"full_name": "X"})", {{"Content-Type", type}});
        EXPECT_EQ(response.result(), Status::unsupported_media_type) << type;
        EXPECT_EQ(response.reason(), "Unsupported Media Type");
        EXPECT_EQ(response["Accept-Patch"], "application/merge-patch+json, application/json-patch+json");
    }
}

TEST_F(AppTest, AJsonPatchThatCannotApplyIs409AndABadOneIs400)
{
    const auto location = create(0);
    const std::vector<std::pair<std::string, std::string>> json_patch{{"Content-Type", "application/json-patch+json"}};
    auto response = call(verb::patch, location, R"([{"op": "remove", "path": "/nothing/here"}])", json_patch);
    EXPECT_EQ(response.result(), Status::conflict);
    EXPECT_EQ(response.reason(), "Conflict");
    response = call(verb::patch, location, R"([{"op": "remove"}])", json_patch);
    EXPECT_EQ(response.result(), Status::bad_request);
    EXPECT_EQ(response.reason(), "Invalid JSON body");
    response = call(verb::patch, location, "not json", json_patch);
    EXPECT_EQ(response.reason(), "Invalid JSON body");
    response = call(verb::patch, location, R"([{"op": "replace", "path": "/full_name", "value": 7}])", json_patch);
    EXPECT_EQ(response.reason(), "JSON Schema validation failed");
    EXPECT_EQ(body(response)["errors"][0]["pointer"], "/full_name");
}

TEST_F(AppTest, APatchedEntryOverTheBodyLimitIs413)
{
    const auto location = create(2);
    const auto response = call(verb::patch, location, R"({"full_name": ")" + std::string(4000, 'w') + R"("})",
                               {{"Content-Type", "application/merge-patch+json"}});
    EXPECT_EQ(response.result(), Status::payload_too_large);
}

TEST_F(AppTest, AValidTraceparentAddsItsTraceIdToTheResponseLine)
{
    call(verb::get, "/livez", {},
         {{"X-Request-ID", "traced"}, {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
    call(verb::get, "/livez", {},
         {{"X-Request-ID", "untraced"}, {"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}});
    const auto text = log.str();
    EXPECT_NE(text.find(R"(req_id="traced" method="GET" uri="/livez" ip="192.0.2.7" message="RESPONSE" status=200)"),
              std::string::npos);
    const auto traced = text.find(R"(req_id="traced" method="GET" uri="/livez" ip="192.0.2.7" message="RESPONSE")");
    const auto line = text.substr(traced, text.find('\n', traced) - traced);
    EXPECT_NE(line.find(R"( trace_id="4bf92f3577b34da6a3ce929d0e0e4736")"), std::string::npos) << line;
    const auto untraced = text.find(R"(req_id="untraced" method="GET" uri="/livez" ip="192.0.2.7" message="RESPONSE")");
    ASSERT_NE(untraced, std::string::npos);
    EXPECT_EQ(text.find("trace_id", untraced), std::string::npos);
}

TEST(AppRoutes, TableListsEveryEndpoint)
{
    std::vector<std::string> rows;
    for (const auto& route : App::routes()) {
        rows.push_back(std::string(boost::beast::http::to_string(route.method)) + " " + std::string(route.path));
    }
    EXPECT_EQ(rows, (std::vector<std::string>{"GET /addresses", "POST /addresses", "GET /addresses/{id}",
                                              "PUT /addresses/{id}", "PATCH /addresses/{id}", "DELETE /addresses/{id}",
                                              "GET /livez", "GET /readyz", "GET /healthz", "GET /metrics",
                                              "GET /openapi.yaml"}));
}

class BrokenStoreTest : public AppTest {
protected:
    BrokenStoreTest() : AppTest(broken_store(), true) {}
};

TEST_F(BrokenStoreTest, StoreFaultIs500WithTraceInDebug)
{
    const auto response = call(verb::get, "/addresses");
    EXPECT_EQ(response.result(), Status::internal_server_error);
    EXPECT_EQ(response.reason(), "Internal Server Error");
    EXPECT_EQ(body(response)["trace"], "disk on fire");
    EXPECT_NE(log.str().find(R"(ERROR : req_id=)"), std::string::npos);
    EXPECT_NE(log.str().find(R"(status=500)"), std::string::npos);
    EXPECT_NE(log.str().find(R"(error="disk on fire")"), std::string::npos);
    // And the next request is served.
    EXPECT_EQ(call(verb::get, "/livez").result(), Status::ok);
    EXPECT_EQ(call(verb::get, "/readyz").result(), Status::service_unavailable);
}

class UnavailableStoreTest : public AppTest {
protected:
    UnavailableStoreTest() : AppTest(unavailable_store()) {}
};

TEST_F(UnavailableStoreTest, AnUnreachableStoreIs503StoreUnavailableWithRetryAfter)
{
    for (const auto method : {verb::get, verb::put, verb::delete_}) {
        const auto response = call(method, "/addresses/abc", R"({"full_name":"Wren Halloway"})");
        EXPECT_EQ(response.result(), Status::service_unavailable);
        EXPECT_EQ(response.reason(), "Store unavailable");
        EXPECT_EQ(response[field::retry_after], "1");
        EXPECT_EQ(body(response)["message"], "Store unavailable");
        EXPECT_EQ(body(response)["code"], 503);
        EXPECT_FALSE(body(response).contains("trace"));
    }
    EXPECT_EQ(call(verb::post, "/addresses", R"({"full_name":"Wren Halloway"})").result(), Status::service_unavailable);
    EXPECT_EQ(call(verb::get, "/addresses").result(), Status::service_unavailable);
    EXPECT_EQ(call(verb::get, "/readyz").result(), Status::service_unavailable);
    EXPECT_EQ(call(verb::get, "/livez").result(), Status::ok);
    EXPECT_NE(log.str().find(R"(status=503 time_ms=)"), std::string::npos);
    EXPECT_NE(log.str().find(R"(reason="Store unavailable" error="db: down")"), std::string::npos) << log.str();
}

TEST(HeaderHelpers, AcceptsGzip)
{
    EXPECT_TRUE(accepts_gzip("gzip"));
    EXPECT_TRUE(accepts_gzip("deflate, GZIP"));
    EXPECT_TRUE(accepts_gzip("gzip;q=0.5"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
    EXPECT_FALSE(accepts_gzip("br"));
    EXPECT_FALSE(accepts_gzip(""));
}

TEST(HeaderHelpers, EtagMatches)
{
    EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches("*", "\"a\""));
    EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches("\"b\" , \"a\"", "\"a\""));
    EXPECT_FALSE(etag_matches("\"b\"", "\"a\""));
}

TEST(HeaderHelpers, RequestIdAlphabet)
{
    EXPECT_TRUE(is_valid_request_id("A-z_0.9"));
    EXPECT_FALSE(is_valid_request_id(""));
    EXPECT_FALSE(is_valid_request_id("a b"));
    EXPECT_FALSE(is_valid_request_id("a\"b"));
}

}  // namespace
}  // namespace addrservice::http
