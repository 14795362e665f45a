#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace addrservice::testing {

using ClientResponse = boost::beast::http::response<boost::beast::http::string_body>;
using ClientRequest = boost::beast::http::request<boost::beast::http::string_body>;

/// A blocking HTTP/1.1 client over one keep-alive connection, for tests.
class HttpClient {
public:
    explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");

    /// Sends one request and reads its response. Headers are name/value pairs.
    ClientResponse request(boost::beast::http::verb method, const std::string& target, std::string body = {},
                           const std::vector<std::pair<std::string, std::string>>& headers = {});
    ClientResponse get(const std::string& target) { return request(boost::beast::http::verb::get, target); }

    /// Sends a prepared request as is (no headers added) and reads the response.
    ClientResponse send(ClientRequest request);
    /// Reads one response (after write_raw); a HEAD response needs head = true.
    ClientResponse read_response(bool head = false);
    /// Writes raw bytes to the connection.
    void write_raw(const std::string& bytes);
    /// Reads raw bytes until the peer closes or the timeout passes; returns what arrived.
    std::string read_until_close(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// True when the server has closed the connection (a read gets EOF or reset within the timeout).
    bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    boost::asio::ip::tcp::socket& socket() { return socket_; }

private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

/// The value of a response header, or "" when absent.
std::string header(const ClientResponse& response, std::string_view name);

}  // namespace addrservice::testing
