// Lists over the wire: pages with `limit` and `after`, the Link to the next page, bad parameters,
// ETags and HEAD on pages, and walks of pages while others write.
#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/run_task.hpp"
#include "support/test_stores.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <regex>
#include <set>
#include <thread>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

class Lists : public ::testing::Test {
protected:
    explicit Lists(Limits limits = {}) : server(limits), client(server.port()) {}

    /// Creates an entry at a chosen id.
    void put(HttpClient& writer, const std::string& id)
    {
        const auto response = writer.request(verb::put, "/addresses/" + id, R"({"full_name": "Entry )" + id + R"("})",
                                             {{"If-None-Match", "*"}});
        ASSERT_EQ(response.result(), status::created) << id;
    }

    /// The ids of a page, in the order of its body.
    static std::vector<std::string> ids_of(const ClientResponse& response)
    {
        // nlohmann's json sorts keys itself: read them in the body's order.
        std::vector<std::string> ids;
        const std::regex key(R"re("([a-zA-Z0-9-]+)":\{"full_name")re");
        for (std::sregex_iterator it(response.body().begin(), response.body().end(), key), end; it != end; ++it) {
            ids.push_back((*it)[1]);
        }
        return ids;
    }

    /// Follows rel="next" from target to the end; returns every id seen, in order.
    std::vector<std::string> walk(const std::string& target, const std::function<void()>& between = {})
    {
        std::vector<std::string> seen;
        std::string next = target;
        while (!next.empty()) {
            const auto page = client.get(next);
            EXPECT_EQ(page.result(), status::ok);
            const auto ids = ids_of(page);
            seen.insert(seen.end(), ids.begin(), ids.end());
            const std::string link(page[field::link]);
            std::smatch match;
            next = std::regex_match(link, match, std::regex(R"re(<([^>]+)>; rel="next")re")) ? match[1].str() : "";
            EXPECT_TRUE(next.empty() == link.empty()) << link;
            if (between) {
                between();
            }
        }
        return seen;
    }

    TestServer server;
    HttpClient client;
};

TEST_F(Lists, APageHasAtMostLimitEntriesAndLinksToTheNext)
{
    for (const auto* id : {"c", "a", "e", "b", "d"}) {
        put(client, id);
    }
    auto page = client.get("/addresses?limit=2");
    EXPECT_EQ(page.result(), status::ok);
    EXPECT_EQ(page[field::content_type], "application/json; charset=UTF-8");
    EXPECT_EQ(ids_of(page), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(page[field::link], R"(</addresses?limit=2&after=b>; rel="next")");
    page = client.get("/addresses?limit=2&after=b");
    EXPECT_EQ(ids_of(page), (std::vector<std::string>{"c", "d"}));
    EXPECT_EQ(page[field::link], R"(</addresses?limit=2&after=d>; rel="next")");
    page = client.get("/addresses?limit=2&after=d");
    EXPECT_EQ(ids_of(page), (std::vector<std::string>{"e"}));
    EXPECT_EQ(page.count(field::link), 0U);
    // A page that ends exactly at the last entry has no next either.
    EXPECT_EQ(client.get("/addresses?limit=5").count(field::link), 0U);
    EXPECT_EQ(client.get("/addresses?after=zz&limit=3").body(), "{}");
    // Without limit, everything after.
    EXPECT_EQ(ids_of(client.get("/addresses?after=c")), (std::vector<std::string>{"d", "e"}));
    EXPECT_EQ(client.get("/addresses?after=c").count(field::link), 0U);
}

TEST_F(Lists, FollowingNextVisitsEveryEntryOnceInIdOrder)
{
    std::set<std::string> ids;
    for (int i = 0; i < 23; ++i) {
        const auto created = client.request(verb::post, "/addresses", R"({"full_name": "Wren"})");
        ids.insert(std::string(created[field::location]).substr(11));
    }
    EXPECT_EQ(walk("/addresses?limit=4"), std::vector<std::string>(ids.begin(), ids.end()));
    EXPECT_EQ(walk("/addresses/?limit=1000&sort=name"), std::vector<std::string>(ids.begin(), ids.end()));
}

TEST_F(Lists, AnEntryThatStaysIsSeenOnceWhileOthersWrite)
{
    std::set<std::string> kept;
    for (int i = 0; i < 30; ++i) {
        const auto id = "k" + std::to_string(10 + i);
        kept.insert(id);
        put(client, id);
    }
    HttpClient writer(server.port());
    int round = 0;
    const auto seen = walk("/addresses?limit=4", [&] {
        // Entries appear before, inside and after the walk's position, and one disappears.
        put(writer, "a" + std::to_string(round));
        put(writer, "k" + std::to_string(10 + round * 4) + "-x");
        put(writer, "z" + std::to_string(round));
        writer.request(verb::delete_, "/addresses/z" + std::to_string(round));
        writer.request(verb::put, "/addresses/k10", R"({"full_name": "Changed"})");
        ++round;
    });
    std::vector<std::string> kept_seen;
    std::copy_if(seen.begin(), seen.end(), std::back_inserter(kept_seen),
                 [&kept](const std::string& id) { return kept.contains(id); });
    EXPECT_EQ(kept_seen, std::vector<std::string>(kept.begin(), kept.end()));
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(Lists, BadParametersAre400NamingThem)
{
    auto response = client.get("/addresses?limit=0");
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(response.reason(), "Invalid query parameter");
    EXPECT_EQ(json::parse(response.body()), json::parse(R"({"method": "GET", "uri": "/addresses", "code": 400,
        "message": "Invalid query parameter",
        "errors": [{"parameter": "limit", "message": "must be an integer from 1 to 1000"}]})"));
    response = client.get("/addresses?limit=ten&after=a.b");
    EXPECT_EQ(json::parse(response.body())["errors"],
              json::parse(R"([{"parameter": "limit", "message": "must be an integer from 1 to 1000"},
                              {"parameter": "after", "message": "must be one or more of [a-zA-Z0-9-]"}])"));
    EXPECT_EQ(client.request(verb::head, "/addresses?after=").result(), status::bad_request);
}

class SmallPages : public Lists {
protected:
    SmallPages() : Lists(limits()) {}
    static Limits limits()
    {
        Limits small;
        small.max_page = 5;
        return small;
    }
};

TEST_F(SmallPages, LimitIsBoundedByMaxPage)
{
    EXPECT_EQ(client.get("/addresses?limit=5").result(), status::ok);
    const auto response = client.get("/addresses?limit=6");
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(json::parse(response.body())["errors"][0]["message"], "must be an integer from 1 to 5");
}

TEST_F(SmallPages, AListLongerThanAPageIsStreamedInChunks)
{
    for (int i = 0; i < 23; ++i) {
        put(client, "k" + std::to_string(10 + i));
    }
    const auto response = client.get("/addresses");
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(response[field::transfer_encoding], "chunked");
    EXPECT_EQ(response.count(field::content_length), 0U);
    EXPECT_EQ(response.count(field::etag), 0U);  // a long list may come without one
    EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
    const auto ids = ids_of(response);
    EXPECT_EQ(ids.size(), 23U);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_EQ(json::parse(response.body()).size(), 23U);
    // The same entries as the pages give, in the same text.
    std::string joined;
    for (const auto& target : {"/addresses?limit=5", "/addresses?limit=5&after=k14", "/addresses?limit=5&after=k19",
                               "/addresses?limit=5&after=k24", "/addresses?limit=5&after=k29"}) {
        const auto page = client.get(target).body();
        joined += (joined.empty() ? "{" : ",") + page.substr(1, page.size() - 2);
    }
    EXPECT_EQ(response.body(), joined + "}");
    // The connection serves on after the last chunk.
    EXPECT_EQ(client.get("/livez").result(), status::ok);
    // A list of at most max_page entries comes whole, with Content-Length and an ETag.
    const auto tail = client.get("/addresses?after=k27");
    EXPECT_EQ(tail[field::content_length], std::to_string(tail.body().size()));
    EXPECT_EQ(tail.count(field::etag), 1U);
}

TEST_F(SmallPages, StreamedListsReachASlowReaderWholeAndInOrder)
{
    for (int i = 0; i < 400; ++i) {
        ASSERT_EQ(client
                      .request(verb::post, "/addresses",
                               R"({"full_name": "Tobias Renwick-Adeyemi )" + std::to_string(i) +
                                   R"(", "addresses": [{"kind": "home", "street_name": "Larkspur Terrace",
                                   "pincode": 208114, "country": "Ruritania", "city": "Haldenmoor"}]})")
                      .result(),
                  status::created);
    }
    const auto expected = client.get("/addresses").body();
    ASSERT_GT(expected.size(), std::size_t{64} * 1024);
    HttpClient reader(server.port());
    reader.socket().set_option(boost::asio::socket_base::receive_buffer_size(8 * 1024));
    reader.write_raw(
        "GET /addresses HTTP/1.1\r\nHost: t\r\n\r\nGET /livez HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /addresses HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(reader.read_response().body(), expected);
    EXPECT_EQ(reader.read_response().body(), R"({"status":"ok"})");
    EXPECT_EQ(reader.read_response().body(), expected);
}

TEST_F(SmallPages, HeadOfALongListHasGetHeadersAndNoBody)
{
    for (int i = 0; i < 12; ++i) {
        put(client, "k" + std::to_string(10 + i));
    }
    const auto head = client.request(verb::head, "/addresses");
    EXPECT_EQ(head.result(), status::ok);
    EXPECT_EQ(head[field::transfer_encoding], "chunked");
    EXPECT_EQ(head.count(field::content_length), 0U);
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(client.get("/livez").result(), status::ok);  // nothing stray on the connection
}

TEST_F(SmallPages, ALongListIsNotGzippedAndHasNo304)
{
    for (int i = 0; i < 40; ++i) {
        put(client, "k" + std::to_string(10 + i));
    }
    const auto response =
        client.request(verb::get, "/addresses", {}, {{"Accept-Encoding", "gzip"}, {"If-None-Match", "*"}});
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(response.count(field::content_encoding), 0U);
    EXPECT_EQ(json::parse(response.body()).size(), 40U);
}

TEST_F(SmallPages, Http10GetsALongListUnchunkedAndTheConnectionCloses)
{
    for (int i = 0; i < 12; ++i) {
        put(client, "k" + std::to_string(10 + i));
    }
    HttpClient old(server.port());
    old.write_raw("GET /addresses HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const auto raw = old.read_until_close();
    const auto body_at = raw.find("\r\n\r\n");
    ASSERT_NE(body_at, std::string::npos) << raw;
    const auto head = raw.substr(0, body_at);
    EXPECT_TRUE(head.starts_with("HTTP/1.0 200 OK")) << head;
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
    EXPECT_EQ(json::parse(raw.substr(body_at + 4)).size(), 12U);
}

TEST(StreamedList, AClientThatStopsReadingIsClosedAfterTheWriteTimeout)
{
    // A streamed list several times larger than any socket buffer: the server's writes must block.
    auto store = std::make_shared<MemoryStore>();
    for (int i = 0; i < 40; ++i) {
        run_task(store->create("big-" + std::to_string(10 + i),
                               make_stored_entry(json{{"full_name", std::string(200'000, 'w')}}.dump())));
    }
    Limits limits;
    limits.max_page = 2;
    limits.write_timeout_s = 1;  // the idle timeout keeps its default (60 s)
    TestServer server(limits, store);
    HttpClient client(server.port());
    client.socket().set_option(boost::asio::socket_base::receive_buffer_size(4096));
    client.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\n\r\n");
    // The response has begun: the connection is the server's, and its first write is under way.
    std::array<char, 64> first{};
    const auto got = client.socket().read_some(boost::asio::buffer(first));
    ASSERT_TRUE(std::string_view(first.data(), got).starts_with("HTTP/1.1 200 OK"));
    const auto start = std::chrono::steady_clock::now();
    // Read nothing more: the server's write times out and the sweep closes the connection.
    const auto give_up = start + std::chrono::seconds(15);
    while (server.connections() != 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(server.connections(), 0U);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
    // What was sent is a truncated chunked body: never the last chunk.
    const auto received = client.read_until_close(std::chrono::seconds(10));
    EXPECT_LT(received.size(), std::size_t{40} * 200'000);
    EXPECT_FALSE(received.ends_with("0\r\n\r\n"));
}

/// A memory store that fails to read any page but the first, as a database lost midway through a list would.
class FailingAfterFirstPageStore final : public ForwardingStore {
public:
    Task<EntryPage> range(std::string after, std::size_t limit) override
    {
        if (!after.empty()) {
            throw StoreError("range failed: connection lost");
        }
        return ForwardingStore::range(std::move(after), limit);
    }
};

TEST(StreamedList, AStoreThatFailsMidwayClosesTheConnectionWithoutTheLastChunk)
{
    auto store = std::make_shared<FailingAfterFirstPageStore>();
    for (int i = 10; i < 17; ++i) {
        run_task(store->create("k" + std::to_string(i),
                               make_stored_entry(json{{"full_name", "Entry " + std::to_string(i)}}.dump())));
    }
    Limits limits;
    limits.max_page = 2;
    TestServer server(limits, store);
    HttpClient client(server.port());
    client.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto received = client.read_until_close();
    EXPECT_TRUE(received.starts_with("HTTP/1.1 200 OK")) << received;
    EXPECT_NE(received.find("Transfer-Encoding: chunked"), std::string::npos) << received;
    EXPECT_NE(received.find(R"("k10":{"full_name":"Entry 10"})"), std::string::npos) << received;
    EXPECT_FALSE(received.ends_with("0\r\n\r\n")) << received;
    server.stop();
    EXPECT_NE(server.log().find("message=\"CONNECTION ERROR\" error=\"range failed: connection lost\""),
              std::string::npos)
        << server.log();
}

TEST_F(Lists, APageHasAStrongEtagThatGives304)
{
    for (const auto* id : {"a", "b", "c"}) {
        put(client, id);
    }
    const auto page = client.get("/addresses?limit=2");
    const std::string etag(page[field::etag]);
    EXPECT_TRUE(std::regex_match(etag, std::regex(R"("[0-9a-f]{16}-[0-9]+")"))) << etag;
    EXPECT_NE(etag, client.get("/addresses")[field::etag]);
    EXPECT_NE(etag, client.get("/addresses?limit=2&after=a")[field::etag]);
    const auto again = client.request(verb::get, "/addresses?limit=2", {}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.result(), status::not_modified);
    EXPECT_EQ(again[field::etag], etag);
    client.request(verb::put, "/addresses/b", R"({"full_name": "Changed"})");
    EXPECT_EQ(client.request(verb::get, "/addresses?limit=2", {}, {{"If-None-Match", etag}}).result(), status::ok);
}

TEST_F(Lists, HeadOfAPageHasItsHeadersAndNoBody)
{
    for (const auto* id : {"a", "b", "c"}) {
        put(client, id);
    }
    const auto get = client.get("/addresses?limit=2");
    const auto head = client.request(verb::head, "/addresses?limit=2");
    EXPECT_EQ(head.result(), status::ok);
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(head[field::link], get[field::link]);
    EXPECT_EQ(head[field::etag], get[field::etag]);
    EXPECT_EQ(head[field::content_length], std::to_string(get.body().size()));
    EXPECT_EQ(client.get("/livez").result(), status::ok);
}

}  // namespace
}  // namespace addrservice::testing
