// Message framing and Host on the wire (RFC 9112 sections 3.2 and 6): what a request's header says about
// where it ends, and which host it is for. Raw bytes, since a well-behaved client cannot send these.
#include "integration/test_server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using nlohmann::json;

const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";

/// How many status lines a raw answer holds.
std::size_t responses_in(const std::string& answer)
{
    std::size_t count = 0;
    for (auto at = answer.find("HTTP/1."); at != std::string::npos; at = answer.find("HTTP/1.", at + 1)) {
        ++count;
    }
    return count;
}

/// Sends raw bytes on a fresh connection and returns everything the server sends until it closes.
std::string exchange_raw(const TestServer& server, const std::string& bytes)
{
    HttpClient client(server.port());
    client.write_raw(bytes);
    return client.read_until_close();
}

/// The JSON body of a raw answer holding one response.
json body_of_raw(const std::string& answer)
{
    return json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
}

TEST(Framing, TransferEncodingWhoseFinalCodingIsNotChunkedIs400AndCloses)
{
    TestServer server;
    for (const std::string coding : {"xchunked", "identity", "gzip", "chunked, identity", "chunked, chunked"}) {
        const auto answer = exchange_raw(
            server, "POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + coding + "\r\n\r\n" + smuggled);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << coding << "\n" << answer;
        EXPECT_EQ(responses_in(answer), 1U) << coding << "\n" << answer;
        EXPECT_EQ(answer.find("smuggled"), std::string::npos) << coding << "\n" << answer;
        EXPECT_EQ(body_of_raw(answer)["message"], "Bad Request") << coding;
    }
}

TEST(Framing, ContentLengthWithTransferEncodingIs400AndCloses)
{
    TestServer server;
    const std::string body = "5\r\n{\"a\":\r\n0\r\n\r\n";
    for (const std::string fields :
         {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
          "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n"}) {
        const auto answer = exchange_raw(
            server, "POST /addresses HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n" + body + smuggled + smuggled);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << fields << "\n" << answer;
        EXPECT_EQ(responses_in(answer), 1U) << fields << "\n" << answer;
    }
}

TEST(Framing, TransferEncodingInHttp10Is400AndCloses)
{
    TestServer server;
    const auto answer =
        exchange_raw(server,
                     "POST /addresses HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "2\r\n{}\r\n0\r\n\r\n" +
                         smuggled);
    EXPECT_TRUE(answer.starts_with("HTTP/1.0 400 Bad Request\r\n")) << answer;
    EXPECT_EQ(responses_in(answer), 1U) << answer;
}

TEST(Framing, TransferCodingsOtherThanChunkedAre501AndClose)
{
    TestServer server;
    const auto answer = exchange_raw(server,
                                     "POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                                     "2\r\n{}\r\n0\r\n\r\n" +
                                         smuggled);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 501 Not Implemented\r\n")) << answer;
    EXPECT_EQ(responses_in(answer), 1U) << answer;
}

TEST(Framing, RepeatedOrInvalidContentLengthIs400AndCloses)
{
    TestServer server;
    for (const std::string fields :
         {"Content-Length: 2, 2\r\n", "Content-Length: 2\r\nContent-Length: 2\r\n",
          "Content-Length: 2\r\nContent-Length: 3\r\n", "Content-Length: two\r\n", "Content-Length: -2\r\n"}) {
        const auto answer =
            exchange_raw(server, "POST /addresses HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n{}" + smuggled);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << fields << "\n" << answer;
        EXPECT_EQ(responses_in(answer), 1U) << fields << "\n" << answer;
    }
}

TEST(Framing, ChunkedBodiesAreStillRead)
{
    TestServer server;
    const std::string entry = R"({"full_name": "Wren Halloway"})";
    HttpClient client(server.port());
    ASSERT_EQ(entry.size(), 30U);  // two chunks: 0x14 bytes, then 0xa
    client.write_raw("POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n" +
                     entry.substr(0, 20) + "\r\na\r\n" + entry.substr(20) + "\r\n0\r\n\r\n");
    const auto response = client.read_response();
    EXPECT_EQ(response.result(), status::created);
    EXPECT_EQ(client.get(std::string(response[field::location])).result(), status::ok);
}

/// A chunked POST of entry, in one chunk, whose chunk-size line carries extension and whose last chunk is
/// followed by trailer (each line ending in CRLF).
std::string chunked_post(const std::string& entry, const std::string& extension, const std::string& trailer)
{
    std::ostringstream size;
    size << std::hex << entry.size();
    return "POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + size.str() + extension +
           "\r\n" + entry + "\r\n0\r\n" + trailer + "\r\n";
}

TEST(Framing, AChunkLineOrTrailerOverTheHeaderLimitIs431AndCloses)
{
    Limits limits;
    limits.max_header_bytes = 1024;
    TestServer server(limits);
    const std::string entry = R"({"full_name": "Wren Halloway"})";
    // Within the limit, extensions and trailers are read and ignored.
    HttpClient client(server.port());
    client.write_raw(
        chunked_post(entry, ";note=" + std::string(900, 'x'), "X-Checksum: " + std::string(900, 'c') + "\r\n"));
    EXPECT_EQ(client.read_response().result(), status::created);
    // Beyond it, whether the line comes in one write or trickles in, it is refused before it is whole.
    for (const auto& request :
         {chunked_post(entry, ";note=" + std::string(5000, 'x'), ""),
          chunked_post(entry, "", "X-Checksum: " + std::string(5000, 'c') + "\r\n"),
          chunked_post(entry, "", std::string(600, 'a') + ": b\r\n" + std::string(600, 'c') + ": d\r\n")}) {
        const auto answer = exchange_raw(server, request);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << answer;
        EXPECT_EQ(responses_in(answer), 1U);
        EXPECT_EQ(body_of_raw(answer)["code"], 431);
    }
    HttpClient trickling(server.port());
    trickling.write_raw("POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1e;x=");
    for (int part = 0; part < 8; ++part) {
        trickling.write_raw(std::string(200, 'x'));
    }
    EXPECT_TRUE(trickling.read_until_close().starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

TEST(Framing, AChunkLineOrTrailerEndedByABareLineFeedIs400AtOnce)
{
    TestServer server;
    const std::string entry = R"({"full_name": "Wren Halloway"})";
    const std::string head = "POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    // Each would wait for a CR that never comes until the request timeout, and then close unanswered.
    for (const auto& request : {head + "1e\n" + entry + "\n0\n\n", head + "1e\r\n" + entry + "\r\n0\n\r\n",
                                head + "1e\r\n" + entry + "\r\n0\r\nX-Checksum: 7\n\r\n"}) {
        const auto answer = exchange_raw(server, request);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << request;
        EXPECT_EQ(responses_in(answer), 1U);
        EXPECT_EQ(body_of_raw(answer)["code"], 400);
    }
    // Nor may a chunk extension hold a control character, quoted or not (but HTAB): a proxy that ends the
    // line at the LF in it would frame the body otherwise.
    for (const auto* extension : {";a=\"x\ny\"", ";a=\"\n\"", ";a=\"x\x7Fy\"", ";a=\"x\\\ny\""}) {
        const auto answer = exchange_raw(server, chunked_post(entry, extension, ""));
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << extension;
        EXPECT_EQ(responses_in(answer), 1U);
    }
    const auto nul = exchange_raw(server, chunked_post(entry, std::string(";a=\"x\0y\"", 8), ""));
    EXPECT_TRUE(nul.starts_with("HTTP/1.1 400 Bad Request\r\n")) << nul;
    HttpClient tabbed(server.port());
    tabbed.write_raw(chunked_post(entry, ";a=\"x\ty\"", ""));
    EXPECT_EQ(tabbed.read_response().result(), status::created);
    // Line feeds in chunk data are data, whichever piece of a trickled body they come in.
    const std::string name = "Wren\\nHalloway\\n";
    const std::string with_newlines = R"({"full_name": ")" + name + "\"}\n\n";
    std::ostringstream size;
    size << std::hex << with_newlines.size();
    HttpClient client(server.port());
    client.write_raw(head + size.str() + "\r\n");
    client.write_raw(with_newlines.substr(0, 20));
    client.write_raw(with_newlines.substr(20) + "\r");
    client.write_raw("\n0\r\n\r\n");
    const auto response = client.read_response();
    ASSERT_EQ(response.result(), status::created) << response.body();
    EXPECT_EQ(json::parse(client.get(std::string(response[field::location])).body())["full_name"], "Wren\nHalloway\n");
}

TEST(Framing, AChunkedBodyLargerThanTheHeaderLimitIsReadWhole)
{
    Limits limits;
    limits.max_header_bytes = 1024;
    TestServer server(limits);
    const auto name = std::string(50000, 'w');
    HttpClient client(server.port());
    client.write_raw(chunked_post(R"({"full_name": ")" + name + R"("})", "", ""));
    const auto response = client.read_response();
    ASSERT_EQ(response.result(), status::created);
    EXPECT_EQ(json::parse(client.get(std::string(response[field::location])).body())["full_name"], name);
}

TEST(Framing, AHeaderValueBeyondWhatBeastHoldsIs431)
{
    // Beast keeps a field's length in 16 bits: a longer value, within a generous max_header_bytes, is
    // refused like a header too large instead of dropping the connection unanswered.
    Limits limits;
    limits.max_header_bytes = 1048576;
    TestServer server(limits);
    const auto value = std::string(70000, 'v');
    EXPECT_TRUE(exchange_raw(server, "GET /livez HTTP/1.1\r\nHost: t\r\nX-Big: " + value + "\r\n\r\n")
                    .starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    const std::string entry = R"({"full_name": "Wren Halloway"})";
    EXPECT_TRUE(exchange_raw(server, chunked_post(entry, "", "X-Big: " + value + "\r\n"))
                    .starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

TEST(Host, Http11WithoutHostIs400WithTheErrorBody)
{
    TestServer server;
    const auto answer = exchange_raw(server, "GET /addresses?limit=1 HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
    EXPECT_NE(answer.find("Content-Type: application/json; charset=UTF-8\r\n"), std::string::npos) << answer;
    EXPECT_EQ(body_of_raw(answer),
              (json{{"method", "GET"}, {"uri", "/addresses"}, {"code", 400}, {"message", "Bad Request"}}));
}

TEST(Host, TwoHostFieldsOrAnInvalidHostIs400)
{
    TestServer server;
    for (const std::string host : {"Host: a\r\nHost: a\r\n", "Host: a b\r\n", "Host: a/b\r\n", "Host: [::1\r\n",
                                   "Host: example.org:80a\r\n", "Host: user@example.org\r\n", "Host: a\"b\r\n"}) {
        const auto answer = exchange_raw(server, "GET /livez HTTP/1.1\r\n" + host + "\r\n");
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << host << "\n" << answer;
        EXPECT_EQ(body_of_raw(answer)["message"], "Bad Request") << host;
    }
}

TEST(Host, ValidHostsAndHttp10WithoutHostAreServed)
{
    TestServer server;
    HttpClient client(server.port());
    for (const std::string host :
         {"Host: example.org\r\n", "Host: example.org:8080\r\n", "Host: 127.0.0.1:80\r\n", "Host: [::1]:8080\r\n",
          "Host: xn--bcher-kva.example\r\n", "Host:\r\n", "Host: EXAMPLE.org.\r\n", "Host: a%2Db\r\n"}) {
        client.write_raw("GET /livez HTTP/1.1\r\n" + host + "\r\n");
        EXPECT_EQ(client.read_response().result(), status::ok) << host;
    }
    client.write_raw("GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::ok);
}

TEST(Host, AbsoluteFormTargetsAreRoutedByTheirPath)
{
    TestServer server;
    HttpClient client(server.port());
    client.write_raw("GET http://example.org/livez HTTP/1.1\r\nHost: example.org\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::ok);
    client.write_raw("GET HTTP://example.org:8080/addresses?limit=5 HTTP/1.1\r\nHost: example.org:8080\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::ok);
    client.write_raw("GET http://example.org/nope?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n");
    const auto missing = client.read_response();
    EXPECT_EQ(missing.result(), status::not_found);
    EXPECT_EQ(json::parse(missing.body())["uri"], "/nope");
    client.write_raw("GET http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n");
    EXPECT_EQ(json::parse(client.read_response().body())["uri"], "/");
}

TEST(Framing, EmptyLinesBeforeARequestLineAreIgnored)
{
    TestServer server;
    HttpClient client(server.port());
    // Before the first request of a connection.
    client.write_raw("\r\n\r\nGET /livez HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::ok);
    // The CRLF some clients add after a body, with the next request in the same write, and alone.
    const std::string entry = R"({"full_name": "Wren Halloway"})";
    const auto post = "POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(entry.size()) +
                      "\r\n\r\n" + entry + "\r\n";
    client.write_raw(post + "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::created);
    EXPECT_EQ(client.read_response().result(), status::ok);
    client.write_raw(post);
    EXPECT_EQ(client.read_response().result(), status::created);
    client.write_raw("\n");
    client.write_raw("GET /livez HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(client.read_response().result(), status::ok);
    // A line that is not empty is still no request line.
    EXPECT_TRUE(exchange_raw(server, "\r\n \r\nGET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
                    .starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST(Framing, ARequestWrittenInPartsIsReadWhole)
{
    TestServer server;
    const std::string entry =
        R"({"full_name": "Wren Halloway", "emails": [{"kind": "work", "email": "wren@example.org"}]})";
    const auto request =
        "POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(entry.size()) + "\r\n\r\n" + entry;
    HttpClient client(server.port());
    for (std::size_t cut = 1; cut < request.size(); cut += 7) {
        client.write_raw(request.substr(0, cut));
        client.write_raw(request.substr(cut));
        const auto response = client.read_response();
        ASSERT_EQ(response.result(), status::created) << "cut at " << cut;
        EXPECT_EQ(json::parse(client.get(std::string(response[field::location])).body())["full_name"], "Wren Halloway");
    }
}

}  // namespace
}  // namespace addrservice::testing
