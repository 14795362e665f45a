// The checks of a request's head before its body is read (RFC 9112 sections 3.2 and 6), on heads parsed
// by Beast's parser as the server parses them.
#include "server/framing.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace addrservice::http {
namespace {

using boost::beast::http::status;

/// What framing_problem says of a head given as text (ending in an empty line), parsed as the server does.
std::optional<FramingProblem> problem_of(const std::string& head)
{
    boost::beast::http::request_parser<boost::beast::http::string_body> parser;
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(head), ec);
    EXPECT_TRUE(parser.is_header_done()) << head << ec.message();
    return framing_problem(parser.get());
}

/// The status of the problem found in a head, or 0 when it can be served.
unsigned status_of(const std::string& head)
{
    const auto problem = problem_of(head);
    return problem ? static_cast<unsigned>(problem->status) : 0U;
}

TEST(TargetPath, EscapedUnreservedCharactersAreDecodedAndOthersStay)
{
    EXPECT_EQ(decode_unreserved("/addresses/pa%74"), "/addresses/pat");
    EXPECT_EQ(decode_unreserved("/addr%65sses/%41b%2d%5F%7e%2E"), "/addresses/Ab-_~.");
    // Reserved characters, others and broken escapes are left as they are.
    EXPECT_EQ(decode_unreserved("/addresses/a%2Fb%3F%20%25"), "/addresses/a%2Fb%3F%20%25");
    EXPECT_EQ(decode_unreserved("/a%4"), "/a%4");
    EXPECT_EQ(decode_unreserved("/a%zz%"), "/a%zz%");
    EXPECT_EQ(decode_unreserved("/a%2541"), "/a%2541");  // decoded once: %25 is '%', which is reserved
}

TEST(FramingCheck, AnOrdinaryHeadHasNoProblem)
{
    EXPECT_EQ(status_of("GET /addresses HTTP/1.1\r\nHost: t\r\n\r\n"), 0U);
    EXPECT_EQ(status_of("POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"), 0U);
    EXPECT_EQ(status_of("POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"), 0U);
    EXPECT_EQ(status_of("POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked \r\n\r\n"), 0U);
    EXPECT_EQ(status_of("GET /addresses HTTP/1.0\r\n\r\n"), 0U);  // HTTP/1.0 may leave Host out
    EXPECT_EQ(status_of("GET http://example.org/addresses HTTP/1.1\r\nHost: example.org\r\n\r\n"), 0U);
}

TEST(FramingCheck, ATransferEncodingWhoseFinalCodingIsNotChunkedIs400)
{
    for (const std::string coding : {"identity", "gzip", "xchunked", "chunked, identity", "chunked, chunked", ""}) {
        const auto problem =
            problem_of("POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + coding + "\r\n\r\n");
        ASSERT_TRUE(problem) << coding;
        EXPECT_EQ(problem->status, status::bad_request) << coding;
        EXPECT_EQ(problem->message, "Bad Request") << coding;
    }
    // The parser reads the body as chunked only when the first field says so: a later one does not count.
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
              400U);
}

TEST(FramingCheck, AnotherCodingBeforeChunkedIs501)
{
    const auto problem = problem_of("POST /addresses HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->status, status::not_implemented);
    EXPECT_EQ(problem->message, "Not Implemented");
}

TEST(FramingCheck, TransferEncodingBesideContentLengthOrInHttp10Is400)
{
    // Beast's parser refuses these two fields together itself; the check does not count on it.
    boost::beast::http::request_header<> head;
    head.version(11);
    head.set(boost::beast::http::field::host, "t");
    head.set(boost::beast::http::field::transfer_encoding, "chunked");
    head.set(boost::beast::http::field::content_length, "5");
    const auto problem = framing_problem(head);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->status, status::bad_request);
    EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400U);
}

TEST(FramingCheck, ContentLengthTwiceOrAsAListIs400)
{
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\n"), 400U);
}

TEST(FramingCheck, Http11NeedsExactlyOneValidHost)
{
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400U);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400U);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400U);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: a@b\r\n\r\n"), 400U);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0U);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0U);  // empty is valid (a URI without authority)
}

TEST(FramingCheck, HostIsUriHostAndAnOptionalPort)
{
    for (const char* host : {"", "example.org", "example.org:8080", "example.org:", "127.0.0.1", "[::1]", "[::1]:80",
                             "[v1.fe80::a+en1]", "xn--bcher-kva.example", "a%2Db", "a_b~c!$&'()*+,;="}) {
        EXPECT_TRUE(is_valid_host(host)) << host;
    }
    for (const char* host : {"a b", "a/b", "a@b", "a\"b", "[::1", "[]", "[::1]x", "example.org:80a", "a:1:2", "%2",
                             "%zz", "a\tb", "caf\xc3\xa9"}) {
        EXPECT_FALSE(is_valid_host(host)) << host;
    }
}

TEST(FramingCheck, TargetPathOfOriginAndAbsoluteForms)
{
    EXPECT_EQ(target_path("/addresses?limit=5"), "/addresses");
    EXPECT_EQ(target_path("/"), "/");
    EXPECT_EQ(target_path("http://example.org/addresses/abc?x"), "/addresses/abc");
    EXPECT_EQ(target_path("HTTP://example.org:8080/livez"), "/livez");
    EXPECT_EQ(target_path("http://example.org"), "/");
    EXPECT_EQ(target_path("http://example.org?x=1"), "/");
    EXPECT_EQ(target_path("addresses"), "addresses");  // neither form: left as it is, and routed nowhere
    EXPECT_EQ(target_path("*"), "*");
}

TEST(FramingCheck, ABareLineFeedIsOneNoCarriageReturnComesBefore)
{
    EXPECT_FALSE(has_bare_line_feed(""));
    EXPECT_FALSE(has_bare_line_feed("1e;x=y"));
    EXPECT_FALSE(has_bare_line_feed("\r"));
    EXPECT_FALSE(has_bare_line_feed("\r\n1e\r\n"));
    EXPECT_FALSE(has_bare_line_feed("0\r\nX-A: 1\r\n\r\n"));
    EXPECT_TRUE(has_bare_line_feed("\n"));
    EXPECT_TRUE(has_bare_line_feed("1e\n"));
    EXPECT_TRUE(has_bare_line_feed("\r\n1e\n"));
    EXPECT_TRUE(has_bare_line_feed("0\r\nX-A: 1\r\n\n"));
    EXPECT_TRUE(has_bare_line_feed("\r\r\n\n"));
}

TEST(FramingCheck, LeadingEmptyLinesAreCountedUpToTheFirstOtherByte)
{
    EXPECT_EQ(leading_empty_lines("GET / HTTP/1.1\r\n"), 0U);
    EXPECT_EQ(leading_empty_lines("\r\nGET / HTTP/1.1\r\n"), 2U);
    EXPECT_EQ(leading_empty_lines("\r\n\n\r\nPOST"), 5U);
    EXPECT_EQ(leading_empty_lines("\r\n \r\nGET"), 2U);  // a line of a space is not empty
    EXPECT_EQ(leading_empty_lines("\r"), 1U);            // half a CRLF, the rest to come
    EXPECT_EQ(leading_empty_lines("\r\n\r\n"), 4U);
    EXPECT_EQ(leading_empty_lines(""), 0U);
}

}  // namespace
}  // namespace addrservice::http
