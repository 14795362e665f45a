// The response body type: a stored entry is handed to Beast's serializer as it is kept, never copied.
#include "server/response_body.hpp"
#include "server/app.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/serializer.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace addrservice::http {
namespace {

using boost::beast::http::field;

/// Everything the serializer yields for a response, as the connection would write it.
std::string serialized(const Response& response)
{
    boost::beast::http::response_serializer<ResponseBody> serializer(response);
    std::string out;
    boost::beast::error_code ec;
    while (!serializer.is_done()) {
        serializer.next(ec, [&](boost::beast::error_code& /*ec*/, const auto& buffers) {
            out += boost::beast::buffers_to_string(buffers);
            serializer.consume(boost::asio::buffer_size(buffers));
        });
        EXPECT_FALSE(ec) << ec.message();
    }
    return out;
}

TEST(ResponseBody, AStoredEntryIsYieldedFromItsOwnBytes)
{
    const auto entry = make_stored_entry(R"({"full_name":"Ines Marchetti-Sole"})");
    Response response{Status::ok, 11};
    response.body() = entry;
    ResponseBody::writer writer(response, response.body());
    boost::beast::error_code ec;
    writer.init(ec);
    const auto yielded = writer.get(ec);
    ASSERT_TRUE(yielded);
    EXPECT_EQ(yielded->first.data(), entry->json.data());  // the store's bytes, not a copy
    EXPECT_EQ(yielded->first.size(), entry->json.size());
    EXPECT_FALSE(yielded->second);
    EXPECT_FALSE(writer.get(ec));
}

TEST(ResponseBody, BeastSerializesTheWholeMessage)
{
    const auto entry = make_stored_entry(R"({"full_name":"Ines Marchetti-Sole"})");
    Response response{Status::ok, 11};
    response.set(field::content_type, "application/json; charset=UTF-8");
    response.content_length(entry->json.size());
    response.body() = entry;
    EXPECT_EQ(serialized(response),
              "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n"
              "Content-Length: " +
                  std::to_string(entry->json.size()) + "\r\n\r\n" + entry->json);

    Response error{Status::not_found, 10};
    error.reason("Address x not found");
    error.body() = std::string(R"({"code":404})");
    error.content_length(12);
    EXPECT_EQ(serialized(error), "HTTP/1.0 404 Address x not found\r\nContent-Length: 12\r\n\r\n{\"code\":404}");
}

TEST(ResponseBody, AssigningTextDropsTheSharedEntryAndClearEmptiesBoth)
{
    ResponseBody::value_type body;
    body = make_stored_entry(R"({"full_name":"A"})");
    EXPECT_EQ(body.view(), R"({"full_name":"A"})");
    body = std::string("own");
    EXPECT_EQ(body.view(), "own");
    body = make_stored_entry(R"({"full_name":"B"})");
    body.clear();
    EXPECT_TRUE(body.empty());
    EXPECT_EQ(ResponseBody::size(body), 0U);
}

/// A stream that is never read: what a streamed body holds until the connection writes it.
class UnreadStream final : public BodyStream {
public:
    Task<std::string> next() override { co_return std::string(); }
};

TEST(ResponseBody, AStreamIsHeldWithoutBytesAndTextOrClearDropsIt)
{
    const auto stream = std::make_shared<UnreadStream>();
    ResponseBody::value_type body;
    body = make_stored_entry(R"({"full_name":"A"})");
    body = stream;
    EXPECT_EQ(body.stream(), stream);
    EXPECT_TRUE(body.view().empty());
    body = std::string("own");
    EXPECT_EQ(body.stream(), nullptr);
    EXPECT_EQ(body.view(), "own");
    body = stream;
    body.clear();
    EXPECT_EQ(body.stream(), nullptr);
}

TEST(ResponseBody, ASplitSerializerYieldsAStreamedResponsesHeaderBlockAlone)
{
    Response response{Status::ok, 11};
    response.set(field::transfer_encoding, "chunked");
    response.body() = std::make_shared<UnreadStream>();
    boost::beast::http::response_serializer<ResponseBody> serializer(response);
    serializer.split(true);
    std::string out;
    boost::beast::error_code ec;
    while (!serializer.is_header_done()) {
        serializer.next(ec, [&](boost::beast::error_code& /*ec*/, const auto& buffers) {
            out += boost::beast::buffers_to_string(buffers);
            serializer.consume(boost::asio::buffer_size(buffers));
        });
        ASSERT_FALSE(ec) << ec.message();
    }
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
}

}  // namespace
}  // namespace addrservice::http
