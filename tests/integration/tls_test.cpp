// HTTPS on the same connection code as plain HTTP: requests, a streamed list, the handshake's deadline, a
// client that speaks plain HTTP to it, the connection cap, the protocol versions.
#include "server/tls.hpp"
#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/run_task.hpp"
#include "support/tls_client.hpp"

#include <boost/asio/write.hpp>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using nlohmann::json;

std::shared_ptr<const http::TlsContext> tls_of(const SelfSignedCertificate& certificate)
{
    return std::make_shared<const http::TlsContext>(certificate.cert().string(), certificate.key().string());
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

TEST(Tls, HttpsRequestsAreServedOnAKeptAliveConnection)
{
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server({}, std::make_shared<MemoryStore>(), false, std::nullopt, tls_of(certificate));
    TlsClient client(server.port(), certificate.cert());
    EXPECT_EQ(client.peer_common_name(), "addrservice-test");
    for (int i = 0; i < 2; ++i) {
        const auto live = client.get("/livez");
        EXPECT_EQ(live.result(), status::ok);
        EXPECT_EQ(live.body(), R"({"status":"ok"})");
        EXPECT_EQ(live[field::content_length], "15");
    }
    const auto missing = client.get("/nope");
    EXPECT_EQ(missing.result(), status::not_found);
    EXPECT_EQ(server.connections(), 1U);
}

TEST(Tls, OnlyTls12AndLaterAreSpoken)
{
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server({}, std::make_shared<MemoryStore>(), false, std::nullopt, tls_of(certificate));
    EXPECT_THROW(TlsClient(server.port(), certificate.cert(), TLS1_VERSION), boost::system::system_error);
    EXPECT_THROW(TlsClient(server.port(), certificate.cert(), TLS1_1_VERSION), boost::system::system_error);
    TlsClient tls12(server.port(), certificate.cert(), TLS1_2_VERSION);
    EXPECT_EQ(tls12.get("/livez").result(), status::ok);
    EXPECT_STREQ(SSL_get_version(tls12.native_handle()), "TLSv1.2");
    TlsClient tls13(server.port(), certificate.cert(), TLS1_3_VERSION);
    EXPECT_EQ(tls13.get("/livez").result(), status::ok);
    EXPECT_STREQ(SSL_get_version(tls13.native_handle()), "TLSv1.3");
}

TEST(Tls, ALongListIsStreamedInChunksOverHttps)
{
    auto store = std::make_shared<MemoryStore>();
    for (int i = 10; i < 17; ++i) {
        run_task(store->create("k" + std::to_string(i),
                               make_stored_entry(json{{"full_name", "Entry " + std::to_string(i)}}.dump())));
    }
    Limits limits;
    limits.max_page = 2;
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server(limits, store, false, std::nullopt, tls_of(certificate));
    TlsClient client(server.port(), certificate.cert());
    for (int round = 0; round < 2; ++round) {  // the connection serves on after the last chunk
        const auto list = client.get("/addresses");
        EXPECT_EQ(list.result(), status::ok);
        EXPECT_EQ(list[field::transfer_encoding], "chunked");
        EXPECT_EQ(list.count(field::content_length), 0U);
        const auto body = json::parse(list.body());
        EXPECT_EQ(body.size(), 7U);
        EXPECT_EQ(body["k16"]["full_name"], "Entry 16");
    }
    EXPECT_EQ(server.connections(), 1U);
}

TEST(Tls, ConnectionCloseWithPipelinedBytesStillDeliversTheWholeResponse)
{
    auto store = std::make_shared<MemoryStore>();
    for (int i = 0; i < 60; ++i) {
        const auto name = "Ottilie Marchbanks " + std::to_string(i) + " " + std::string(600, 'o');
        run_task(store->create("m" + std::to_string(100 + i), make_stored_entry(json{{"full_name", name}}.dump())));
    }
    const SelfSignedCertificate certificate("addrservice-test");
    Limits limits;
    limits.idle_timeout_s = 5;  // bounds the test, should a write never finish
    TestServer server(limits, store, false, std::nullopt, tls_of(certificate));
    const auto expected = TlsClient(server.port(), certificate.cert()).get("/addresses").body();
    // Larger than the client's receive buffer and window, smaller than what the server may leave unsent
    // in its kernel: the server's write finishes while much of the response still waits to be sent.
    ASSERT_GT(expected.size(), std::size_t{36} * 1024);
    ASSERT_LT(expected.size(), std::size_t{60} * 1024);

    TlsClient client(server.port(), certificate.cert());
    client.socket().set_option(boost::asio::socket_base::receive_buffer_size(4096));
    // Pipelined bytes beyond the TLS records the server reads with the request: still unread at the close.
    const std::string pipelined_body(30000, ' ');
    client.write_raw(
        "GET /addresses HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        "POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(pipelined_body.size()) + "\r\n\r\n" + pipelined_body);
    // Read nothing until the server is done with the connection: a close that resets it loses what it
    // had not sent yet.
    ASSERT_TRUE(all_closed(server, std::chrono::seconds(10)));
    const auto answer = client.read_until_close();
    expect_whole_response(answer, expected);
}

TEST(Tls, AHandshakeTrickledPastTheHeaderTimeoutIsClosed)
{
    Limits limits;
    limits.header_timeout_s = 1;
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server(limits, std::make_shared<MemoryStore>(), false, std::nullopt, tls_of(certificate));
    HttpClient client(server.port());
    // A handshake record that announces 512 bytes, sent a byte at a time.
    const std::string record_head("\x16\x03\x01\x02\x00", 5);
    const auto start = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    for (int i = 0; i < 100 && !ec && server.connections() != 0; ++i) {
        const char byte = i < 5 ? record_head[static_cast<std::size_t>(i)] : '\x01';
        boost::asio::write(client.socket(), boost::asio::buffer(&byte, 1), ec);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the trickle's pace
    }
    EXPECT_TRUE(all_closed(server, std::chrono::seconds(2)));
    const auto lasted = std::chrono::steady_clock::now() - start;
    EXPECT_GE(lasted, std::chrono::milliseconds(900));
    EXPECT_LT(lasted, std::chrono::seconds(4));
}

TEST(Tls, PlainHttpOnTheTlsPortIsClosedAndHttpsGoesOn)
{
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server({}, std::make_shared<MemoryStore>(), false, std::nullopt, tls_of(certificate));
    HttpClient plain(server.port());
    plain.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto answer = plain.read_until_close(std::chrono::seconds(5));
    EXPECT_EQ(answer.find("HTTP/1.1"), std::string::npos) << answer;
    EXPECT_TRUE(all_closed(server, std::chrono::seconds(5)));
    TlsClient client(server.port(), certificate.cert());
    EXPECT_EQ(client.get("/livez").result(), status::ok);
}

TEST(Tls, ConnectionsPastTheLimitAreClosedAtOnce)
{
    Limits limits;
    limits.max_connections = 1;
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server(limits, std::make_shared<MemoryStore>(), false, std::nullopt, tls_of(certificate));
    TlsClient first(server.port(), certificate.cert());
    EXPECT_EQ(first.get("/livez").result(), status::ok);
    HttpClient second(server.port());
    EXPECT_TRUE(second.closed_by_peer(std::chrono::seconds(5)));
    EXPECT_EQ(first.get("/livez").result(), status::ok);
}

TEST(Tls, AnIdleConnectionIsClosedAfterTheIdleTimeout)
{
    Limits limits;
    limits.idle_timeout_s = 1;
    const SelfSignedCertificate certificate("addrservice-test");
    TestServer server(limits, std::make_shared<MemoryStore>(), false, std::nullopt, tls_of(certificate));
    TlsClient client(server.port(), certificate.cert());
    EXPECT_EQ(client.get("/livez").result(), status::ok);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(all_closed(server, std::chrono::seconds(5)));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

}  // namespace
}  // namespace addrservice::testing
