#include "addrservice/errors.hpp"
#include "addrservice/store/memory_store.hpp"
#include "integration/test_server.hpp"
#include "server/gzip.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"
#include "support/test_stores.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <array>
#include <future>
#include <regex>
#include <thread>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

std::string raw_post(const std::string& body, const std::string& extra_headers = {})
{
    return "POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           extra_headers + "\r\n" + body;
}

void expect_common_headers(const ClientResponse& response)
{
    EXPECT_FALSE(response[field::date].empty());
    EXPECT_TRUE(response[field::server].starts_with("addrservice/"));
    EXPECT_FALSE(response["X-Request-ID"].empty());
    const auto code = static_cast<unsigned>(response.result());
    if (code == 204 || code == 304 || code < 200) {
        EXPECT_EQ(response.count(field::content_length), 0U) << code;
    } else {
        EXPECT_EQ(response[field::content_length], std::to_string(response.body().size())) << code;
    }
}

TEST(HttpBehaviour, UnknownPathIsA404JsonBodyAndKeepAliveServesTwoRequests)
{
    TestServer server;
    HttpClient client(server.port());
    for (int i = 0; i < 2; ++i) {
        const auto response = client.get("/anything");
        EXPECT_EQ(response.result(), status::not_found);
        EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
        EXPECT_EQ(json::parse(response.body()),
                  (json{{"method", "GET"}, {"uri", "/anything"}, {"code", 404}, {"message", "Unknown Endpoint"}}));
        EXPECT_TRUE(response.keep_alive());
        expect_common_headers(response);
    }
    EXPECT_EQ(server.connections(), 1U);
}

TEST(HttpBehaviour, PipelinedRequestsAreAnsweredInOrder)
{
    TestServer server;
    HttpClient client(server.port());
    const auto entry = sample("tobias-renwick-adeyemi.json");
    client.write_raw(raw_post(entry, "X-Request-ID: one\r\n") +
                     "GET /nope HTTP/1.1\r\nHost: t\r\nX-Request-ID: two\r\n\r\n" +
                     "GET /addresses HTTP/1.1\r\nHost: t\r\nX-Request-ID: three\r\n\r\n");
    const auto first = client.read_response();
    const auto second = client.read_response();
    const auto third = client.read_response();
    EXPECT_EQ(first["X-Request-ID"], "one");
    EXPECT_EQ(first.result(), status::created);
    EXPECT_EQ(second["X-Request-ID"], "two");
    EXPECT_EQ(second.result(), status::not_found);
    EXPECT_EQ(third["X-Request-ID"], "three");
    EXPECT_EQ(json::parse(third.body()).size(), 1U);
}

TEST(HttpBehaviour, LargeResponsesArriveWholeAndInOrderToASlowReader)
{
    TestServer server;
    HttpClient writer(server.port());
    const auto entry = json::parse(sample("tobias-renwick-adeyemi.json"));
    // A list many times the socket's send buffer, so the server writes it in parts as the reader reads.
    for (int i = 0; i < 1000; ++i) {
        auto named = entry;
        named["full_name"] = "Tobias Renwick-Adeyemi " + std::to_string(i);
        ASSERT_EQ(writer.request(verb::post, "/addresses", named.dump()).result(), status::created);
    }
    const auto expected = writer.get("/addresses");
    ASSERT_GT(expected.body().size(), std::size_t{256} * 1024);

    HttpClient reader(server.port());
    reader.socket().set_option(boost::asio::socket_base::receive_buffer_size(16 * 1024));
    reader.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\n\r\nGET /addresses HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; i < 2; ++i) {
        const auto response = reader.read_response();
        EXPECT_EQ(response.result(), status::ok);
        EXPECT_EQ(response["ETag"], expected["ETag"]);
        EXPECT_EQ(response.body(), expected.body()) << "response " << i;
    }
    EXPECT_EQ(json::parse(expected.body()).size(), 1000U);
}

TEST(HttpBehaviour, Http10ClosesUnlessAskedToKeepAlive)
{
    TestServer server;
    {
        HttpClient client(server.port());
        client.write_raw("GET /livez HTTP/1.0\r\n\r\n");
        const auto response = client.read_response();
        EXPECT_EQ(response.version(), 10U);
        EXPECT_EQ(response.result(), status::ok);
        EXPECT_TRUE(client.closed_by_peer());
    }
    HttpClient client(server.port());
    client.write_raw("GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(client.read_response()[field::connection], "keep-alive");
    client.write_raw("GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::ok);
}

TEST(HttpBehaviour, ExpectContinueGets100ThenTheResponse)
{
    TestServer server;
    HttpClient client(server.port());
    const auto entry = sample("tobias-renwick-adeyemi.json");
    client.write_raw("POST /addresses HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(entry.size()) + "\r\n\r\n");
    const auto interim = client.read_response();
    EXPECT_EQ(interim.result(), status::continue_);
    client.write_raw(entry);
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), status::created);
    expect_common_headers(response);
}

TEST(HttpBehaviour, ExpectContinueOverTheLimitIsRefusedAtOnceWith413)
{
    Limits limits;
    limits.max_body_bytes = 1024;
    TestServer server(limits);
    HttpClient client(server.port());
    client.write_raw("POST /addresses HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), status::payload_too_large);
    EXPECT_EQ(response.reason(), "Payload Too Large");
    EXPECT_EQ(json::parse(response.body())["message"], "Payload Too Large");
    expect_common_headers(response);
    EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpBehaviour, BodiesOverTheLimitGet413)
{
    Limits limits;
    limits.max_body_bytes = 1024;
    TestServer server(limits);
    {
        HttpClient client(server.port());
        client.write_raw(raw_post(std::string(2000, ' ')));
        EXPECT_EQ(client.read_response().result(), status::payload_too_large);
    }
    {
        HttpClient client(server.port());
        client.write_raw(
            "POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            "400\r\n" +
            std::string(1024, ' ') + "\r\n10\r\n" + std::string(16, ' ') + "\r\n0\r\n\r\n");
        EXPECT_EQ(client.read_response().result(), status::payload_too_large);
    }
    {
        // A gzip body counts by its inflated size.
        HttpClient client(server.port());
        const auto response = client.request(verb::post, "/addresses", http::gzip_compress(std::string(5000, ' ')),
                                             {{"Content-Encoding", "gzip"}});
        EXPECT_EQ(response.result(), status::payload_too_large);
    }
    HttpClient client(server.port());
    EXPECT_EQ(client.request(verb::post, "/addresses", R"({"full_name": "Within Limits"})").result(), status::created);
}

TEST(HttpBehaviour, HeaderBlockOverTheLimitGets431)
{
    Limits limits;
    limits.max_header_bytes = 1024;
    TestServer server(limits);
    HttpClient client(server.port());
    client.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\nX-Padding: " + std::string(2000, 'p') + "\r\n\r\n");
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), status::request_header_fields_too_large);
    EXPECT_EQ(json::parse(response.body())["code"], 431);
    expect_common_headers(response);
    EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpBehaviour, MalformedRequestGets400AndIsClosed)
{
    TestServer server;
    HttpClient client(server.port());
    client.write_raw("THIS IS NOT HTTP\r\n\r\n");
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), status::bad_request);
    EXPECT_EQ(response[field::content_type], "application/json; charset=UTF-8");
    EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpBehaviour, IncompleteHeaderIsClosedAfterTheHeaderTimeout)
{
    Limits limits;
    limits.header_timeout_s = 1;
    TestServer server(limits);
    HttpClient client(server.port());
    client.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\n");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.closed_by_peer(std::chrono::seconds(10)));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

TEST(HttpBehaviour, AnExpiredDeadlineClosesEvenWhenTheReadHasDataWaiting)
{
    Limits limits;
    limits.header_timeout_s = 1;
    limits.max_header_bytes = 64 * 1024;
    TestServer server(limits);
    HttpClient client(server.port());
    client.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\n");
    while (server.connections() == 0) {
        std::this_thread::yield();  // until the connection is accepted and reading its header
    }
    // Hold the server's thread past the deadline while more of the header arrives: when it runs again the
    // deadline has passed, and the header's read goes on from data already waiting, step after step,
    // never waiting on the socket where a cancellation would find it.
    std::promise<void> holding;
    boost::asio::post(server.io(), [&holding] {
        holding.set_value();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    });
    holding.get_future().wait();
    client.write_raw("X-Filler: " + std::string(16000, 'f') + "\r\n");
    EXPECT_TRUE(client.closed_by_peer(std::chrono::seconds(5)));
}

TEST(HttpBehaviour, ConnectionCloseWithPipelinedBytesStillDeliversTheWholeResponse)
{
    Limits limits;
    limits.idle_timeout_s = 5;  // bounds the test, should a write never finish
    TestServer server(limits);
    const auto entry = sample("marguerite-okonkwo-lindqvist.json");
    std::string expected;
    {
        HttpClient writer(server.port());
        for (int i = 0; i < 50; ++i) {
            ASSERT_EQ(writer.request(verb::post, "/addresses", entry).result(), status::created);
        }
        expected = writer.get("/addresses").body();
    }
    // Larger than the client's receive buffer and window, smaller than what the server may leave unsent
    // in its kernel: the server's write finishes while much of the response still waits to be sent.
    ASSERT_GT(expected.size(), std::size_t{40} * 1024);
    ASSERT_LT(expected.size(), std::size_t{60} * 1024);

    HttpClient client(server.port());
    client.socket().set_option(boost::asio::socket_base::receive_buffer_size(4096));
    // More pipelined bytes than the server reads with the first request's header: still unread at the close.
    client.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" +
                     raw_post(std::string(8000, ' ')));
    // Read nothing until the server is done with the connection: a close that resets it loses what it
    // had not sent yet.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server.connections() != 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto answer = client.read_until_close();
    expect_whole_response(answer, expected);
}

TEST(HttpBehaviour, IdleConnectionIsClosedAfterTheIdleTimeout)
{
    Limits limits;
    limits.idle_timeout_s = 1;
    TestServer server(limits);
    HttpClient client(server.port());
    EXPECT_EQ(client.get("/livez").result(), status::ok);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.closed_by_peer(std::chrono::seconds(10)));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

/// Waits until the server has no open connection; false when that takes longer than timeout.
bool all_closed(TestServer& server, std::chrono::milliseconds timeout)
{
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (server.connections() != 0) {
        if (std::chrono::steady_clock::now() > give_up) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

/// Sends bytes one at a time, 100 ms apart, until the server closes the connection or the bytes run out;
/// returns how long the server let it go on.
std::chrono::steady_clock::duration trickle_until_closed(TestServer& server, HttpClient& client,
                                                         const std::string& bytes)
{
    const auto start = std::chrono::steady_clock::now();
    for (const char byte : bytes) {
        if (server.connections() == 0) {
            break;
        }
        boost::system::error_code ec;
        boost::asio::write(client.socket(), boost::asio::buffer(&byte, 1), ec);
        if (ec) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the trickle's pace
    }
    EXPECT_TRUE(all_closed(server, std::chrono::seconds(2)));
    return std::chrono::steady_clock::now() - start;
}

TEST(HttpBehaviour, ABodyTrickledSlowerThanTheRequestTimeoutIsClosed)
{
    Limits limits;
    limits.request_timeout_s = 1;  // the header and idle timeouts keep their defaults (10 s, 60 s)
    TestServer server(limits);
    HttpClient client(server.port());
    client.write_raw("POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
    const auto lasted = trickle_until_closed(server, client, std::string(100, ' '));  // 10 s at this pace
    EXPECT_GE(lasted, std::chrono::milliseconds(900));
    EXPECT_LT(lasted, std::chrono::seconds(4));
}

TEST(HttpBehaviour, AHeaderTrickledWithinTheHeaderTimeoutButPastTheRequestTimeoutIsClosed)
{
    Limits limits;
    limits.request_timeout_s = 1;
    limits.header_timeout_s = 20;
    TestServer server(limits);
    HttpClient client(server.port());
    EXPECT_EQ(client.get("/livez").result(), status::ok);  // the next request's clock starts at its first byte
    const auto lasted =
        trickle_until_closed(server, client, "GET /livez HTTP/1.1\r\nHost: t\r\nX-Filler: " + std::string(100, 'f'));
    EXPECT_GE(lasted, std::chrono::milliseconds(900));
    EXPECT_LT(lasted, std::chrono::seconds(4));
}

/// Fills the book until the whole list is larger than bytes; returns the list's text.
std::string fill_book(std::uint16_t port, std::size_t bytes)
{
    HttpClient writer(port);
    auto entry = json::parse(sample("tobias-renwick-adeyemi.json"));
    for (int i = 0;; ++i) {
        entry["full_name"] = "Tobias Renwick-Adeyemi " + std::to_string(i);
        EXPECT_EQ(writer.request(verb::post, "/addresses", entry.dump()).result(), status::created);
        if (i % 100 == 99) {
            auto list = writer.get("/addresses").body();
            if (list.size() > bytes) {
                return list;
            }
        }
    }
}

TEST(HttpBehaviour, AClientThatReadsNothingOfItsResponseIsClosedAfterTheWriteTimeout)
{
    Limits limits;
    limits.write_timeout_s = 1;  // the idle timeout keeps its default (60 s)
    TestServer server(limits);
    fill_book(server.port(), std::size_t{1024} * 1024);         // far more than the socket buffers hold
    ASSERT_TRUE(all_closed(server, std::chrono::seconds(10)));  // the filling's own connections are gone
    HttpClient client(server.port());
    client.socket().set_option(boost::asio::socket_base::receive_buffer_size(16 * 1024));
    client.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto start = std::chrono::steady_clock::now();
    // The server may not have accepted the connection yet (a slow build): none open says nothing then.
    const auto accepted_by = start + std::chrono::seconds(10);
    while (server.connections() == 0 && std::chrono::steady_clock::now() < accepted_by) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(server.connections(), 1U);
    EXPECT_TRUE(all_closed(server, std::chrono::seconds(10)));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

TEST(HttpBehaviour, AClientThatReadsSlowlyButSteadilyGetsAResponseThatTakesLongerThanTheWriteTimeout)
{
    Limits limits;
    limits.write_timeout_s = 1;
    TestServer server(limits);
    const auto expected = fill_book(server.port(), std::size_t{256} * 1024);
    HttpClient client(server.port());
    client.socket().set_option(boost::asio::socket_base::receive_buffer_size(16 * 1024));
    client.write_raw("GET /addresses HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const auto start = std::chrono::steady_clock::now();
    std::string answer;
    std::array<char, 8 * 1024> chunk{};
    for (;;) {
        boost::system::error_code ec;
        const auto n = client.socket().read_some(boost::asio::buffer(chunk), ec);
        answer.append(chunk.data(), n);
        if (ec) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the slow reader's pace
    }
    EXPECT_GT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
    ASSERT_GE(answer.size(), expected.size());
    EXPECT_TRUE(answer.ends_with(expected));
}

TEST(HttpBehaviour, AFaultInTheAcceptLoopLosesThatConnectionAndAcceptingGoesOn)
{
    int faults = 0;  // counted on the server's thread
    TestServer server;
    server.inject_faults([&faults](std::string_view step) {
        if (step == "accept" && faults++ == 0) {
            throw std::runtime_error("injected accept fault");
        }
    });
    {
        HttpClient first(server.port());
        EXPECT_TRUE(first.closed_by_peer());
    }
    HttpClient second(server.port());
    second.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const auto answer = second.read_until_close();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
    server.stop();
    EXPECT_NE(server.log().find(R"(ERROR : message="ACCEPT FAILED" error="injected accept fault")"), std::string::npos)
        << server.log();
}

TEST(HttpBehaviour, AFaultInTheDeadlineSweepIsLoggedAndDeadlinesStillHold)
{
    int faults = 0;  // counted on the server's thread
    Limits limits;
    limits.header_timeout_s = 1;
    TestServer server(limits);
    server.inject_faults([&faults](std::string_view step) {
        if (step == "sweep" && faults++ == 0) {
            throw std::runtime_error("injected sweep fault");
        }
    });
    HttpClient client(server.port());
    client.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\n");
    EXPECT_TRUE(client.closed_by_peer(std::chrono::seconds(5)));
    server.stop();
    EXPECT_NE(server.log().find(R"(ERROR : message="SWEEP FAILED" error="injected sweep fault")"), std::string::npos)
        << server.log();
}

TEST(HttpBehaviour, ServersWithReusePortShareAPortAndOthersCannotTakeIt)
{
    boost::asio::io_context io;
    std::ostringstream log;
    Logger logger(LoggingConfig{}, log);
    AddressService service(std::make_shared<MemoryStore>());
    http::App app(service, logger, http::AppOptions{});
    const http::Server first(io, app, logger, "127.0.0.1", 0, Limits{}, true);
    const http::Server second(io, app, logger, "127.0.0.1", first.port(), Limits{}, true);
    EXPECT_EQ(second.port(), first.port());
    EXPECT_THROW(http::Server(io, app, logger, "127.0.0.1", first.port(), Limits{}, false), http::ListenError);
}

TEST(HttpBehaviour, ConnectionsPastTheLimitAreClosedAtOnce)
{
    Limits limits;
    limits.max_connections = 2;
    TestServer server(limits);
    HttpClient first(server.port());
    HttpClient second(server.port());
    EXPECT_EQ(first.get("/livez").result(), status::ok);
    EXPECT_EQ(second.get("/livez").result(), status::ok);
    HttpClient third(server.port());
    const auto answer = third.read_until_close();
    EXPECT_TRUE(answer.empty() || answer.starts_with("HTTP/1.1 503 Service Unavailable")) << answer;
    EXPECT_EQ(first.get("/livez").result(), status::ok);
}

TEST(HttpBehaviour, EtagGives304OverTheWire)
{
    TestServer server;
    HttpClient client(server.port());
    const auto location =
        std::string(client.request(verb::post, "/addresses", sample("ines-marchetti-sole.json"))[field::location]);
    const auto first = client.get(location);
    const auto etag = std::string(first[field::etag]);
    EXPECT_FALSE(etag.empty());
    const auto again = client.request(verb::get, location, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.result(), status::not_modified);
    EXPECT_TRUE(again.body().empty());
    expect_common_headers(again);
    // The connection stays usable after a bodiless 304.
    EXPECT_EQ(client.get(location).result(), status::ok);
}

TEST(HttpBehaviour, GzipResponsesForLargeBodies)
{
    TestServer server;
    HttpClient client(server.port());
    for (const char* name :
         {"ines-marchetti-sole.json", "marguerite-okonkwo-lindqvist.json", "tobias-renwick-adeyemi.json"}) {
        ASSERT_EQ(client.request(verb::post, "/addresses", sample(name)).result(), status::created);
    }
    const auto plain = client.get("/addresses");
    ASSERT_GE(plain.body().size(), 1024U);
    const auto zipped = client.request(verb::get, "/addresses", {}, {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(zipped[field::content_encoding], "gzip");
    EXPECT_EQ(zipped[field::vary], "Accept-Encoding");
    EXPECT_NE(zipped[field::etag], plain[field::etag]);
    EXPECT_EQ(http::gzip_decompress(zipped.body(), 1 << 20), plain.body());
    expect_common_headers(zipped);
}

TEST(HttpBehaviour, HeadCarriesGetHeadersWithoutABody)
{
    TestServer server;
    HttpClient client(server.port());
    client.request(verb::post, "/addresses", sample("tobias-renwick-adeyemi.json"));
    const auto get = client.get("/addresses");
    const auto head = client.request(verb::head, "/addresses");
    EXPECT_EQ(head.result(), status::ok);
    EXPECT_EQ(head[field::content_length], std::to_string(get.body().size()));
    EXPECT_EQ(head[field::etag], get[field::etag]);
    EXPECT_TRUE(head.body().empty());
    // Nothing stray follows the HEAD response on the connection.
    EXPECT_EQ(client.get("/livez").result(), status::ok);
}

TEST(HttpBehaviour, EveryRequestGetsOneCanonicalLogLineWithItsRequestId)
{
    TestServer server;
    std::vector<std::string> ids;
    {
        HttpClient client(server.port());
        ids.emplace_back(client.request(verb::post, "/addresses", sample("ines-marchetti-sole.json"))["X-Request-ID"]);
        ids.emplace_back(client.get("/missing")["X-Request-ID"]);
        ids.emplace_back(client.request(verb::get, "/livez", {}, {{"X-Request-ID", "mine-1"}})["X-Request-ID"]);
    }
    server.stop();
    const auto log = server.log();
    EXPECT_EQ(ids[2], "mine-1");
    for (const auto& id : ids) {
        const std::regex line("req_id=\"" + id + "\" [^\\n]*message=\"RESPONSE\"");
        EXPECT_EQ(std::distance(std::sregex_iterator(log.begin(), log.end(), line), std::sregex_iterator()), 1)
            << id << "\n"
            << log;
    }
    EXPECT_NE(log.find(" INFO : req_id=\"" + ids[0] +
                       "\" method=\"POST\" uri=\"/addresses\" ip=\"127.0.0.1\" "
                       "message=\"RESPONSE\" status=201 time_ms="),
              std::string::npos);
    EXPECT_NE(log.find(" WARNING : req_id=\"" + ids[1] + "\""), std::string::npos);
}

/// A store whose every read fails, as a broken disk would.
class FailingStore final : public EmptyStore {
public:
    Task<EntryPtr> read(std::string /*id*/) override { throw StoreError("read failed: disk on fire"); }
};

TEST(HttpBehaviour, ServerFaultIs500LoggedAtErrorAndServingGoesOn)
{
    TestServer server({}, std::make_shared<FailingStore>());
    std::string id;
    {
        HttpClient client(server.port());
        const auto response = client.get("/addresses/abc");
        EXPECT_EQ(response.result(), status::internal_server_error);
        EXPECT_EQ(response.reason(), "Internal Server Error");
        const auto body = json::parse(response.body());
        EXPECT_EQ(body["message"], "Internal Server Error");
        EXPECT_FALSE(body.contains("trace"));  // not in debug mode
        id = std::string(response["X-Request-ID"]);
        EXPECT_EQ(client.get("/livez").result(), status::ok);
    }
    server.stop();
    EXPECT_NE(
        server.log().find(" ERROR : req_id=\"" + id +
                          "\" method=\"GET\" uri=\"/addresses/abc\" ip=\"127.0.0.1\" message=\"RESPONSE\" status=500"),
        std::string::npos)
        << server.log();
    EXPECT_NE(server.log().find("error=\"read failed: disk on fire\""), std::string::npos);
}

/// A memory store whose create() waits until the test releases it: a request held in flight.
class GatedStore final : public ForwardingStore {
public:
    std::promise<void> entered;

    Task<void> create(std::string id, EntryPtr entry) override
    {
        gate_ = std::make_unique<boost::asio::steady_timer>(co_await boost::asio::this_coro::executor,
                                                            std::chrono::hours(1));
        entered.set_value();
        [[maybe_unused]] auto [ec] = co_await gate_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        gate_.reset();  // on the server's thread, while its io_context still exists
        co_await inner().create(std::move(id), std::move(entry));
    }
    /// Call on the server's thread.
    void release()
    {
        if (gate_) {
            gate_->cancel();
        }
    }

private:
    std::unique_ptr<boost::asio::steady_timer> gate_;
};

TEST(HttpBehaviour, ShutdownClosesIdleConnectionsAndFinishesRequestsInFlight)
{
    auto store = std::make_shared<GatedStore>();
    TestServer server({}, store);
    HttpClient busy(server.port());
    HttpClient idle(server.port());
    EXPECT_EQ(idle.get("/livez").result(), status::ok);

    busy.write_raw(raw_post(sample("ines-marchetti-sole.json")));
    store->entered.get_future().wait();
    server.begin_shutdown();

    EXPECT_TRUE(idle.closed_by_peer());
    EXPECT_THROW(HttpClient late(server.port()), boost::system::system_error);
    server.on_server_thread([&] { store->release(); });
    const auto response = busy.read_response();
    EXPECT_EQ(response.result(), status::created);
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(busy.closed_by_peer());
    server.stop();
    EXPECT_EQ(store->size(), 1U);
}

}  // namespace
}  // namespace addrservice::testing
