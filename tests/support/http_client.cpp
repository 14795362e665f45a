#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <poll.h>

namespace addrservice::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

HttpClient::HttpClient(std::uint16_t port, std::string host) : socket_(io_)
{
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
    socket_.set_option(asio::ip::tcp::no_delay(true));
}

ClientResponse HttpClient::request(http::verb method, const std::string& target, std::string body,
                                   const std::vector<std::pair<std::string, std::string>>& headers)
{
    ClientRequest request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
        request.set(name, value);
    }
    if (!body.empty() || method == http::verb::post || method == http::verb::put) {
        request.body() = std::move(body);
        request.prepare_payload();
    }
    return send(std::move(request));
}

ClientResponse HttpClient::send(ClientRequest request)
{
    const bool head = request.method() == http::verb::head;
    http::write(socket_, request);
    return read_response(head);
}

ClientResponse HttpClient::read_response(bool head)
{
    http::response_parser<http::string_body> parser;
    parser.body_limit(64U * 1024U * 1024U);
    parser.skip(head);
    http::read(socket_, buffer_, parser);
    return parser.release();
}

void HttpClient::write_raw(const std::string& bytes)
{
    asio::write(socket_, asio::buffer(bytes));
}

std::string HttpClient::read_until_close(std::chrono::milliseconds timeout)
{
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.clear();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return out;
        }
        pollfd pfd{socket_.native_handle(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
            return out;
        }
        std::array<char, 4096> chunk{};
        beast::error_code ec;
        const auto n = socket_.read_some(asio::buffer(chunk), ec);
        if (ec) {
            return out;
        }
        out.append(chunk.data(), n);
    }
}

bool HttpClient::closed_by_peer(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd pfd{socket_.native_handle(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        std::array<char, 4096> chunk{};
        beast::error_code ec;
        socket_.read_some(asio::buffer(chunk), ec);
        if (ec) {
            return true;  // EOF or reset
        }
    }
}

std::string header(const ClientResponse& response, std::string_view name)
{
    return std::string(response[name]);
}

}  // namespace addrservice::testing
