#include "server/connection.hpp"

#include "addrservice/address_service.hpp"
#include "addrservice/logging.hpp"
#include "server/app.hpp"
#include "server/framing.hpp"
#include "server/response_body.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <sys/ioctl.h>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace addrservice::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto linger_timeout = std::chrono::seconds(1);
constexpr std::size_t idle_read_size = 4096;
constexpr std::size_t max_read_size = 65536;
constexpr auto never = Clock::time_point::max();

using RequestParser = beast_http::request_parser<beast_http::string_body>;

template <typename Stream>
constexpr bool is_tls = std::is_same_v<Stream, TlsStream>;

bool is_quiet_close(const beast::error_code& ec)
{
    return ec == beast_http::error::end_of_stream || ec == asio::error::operation_aborted ||
           ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::broken_pipe ||
           ec == asio::error::bad_descriptor || ec == asio::ssl::error::stream_truncated;
}

/// One client connection: its stream and buffer, read -> handle -> write one request at a time. It lives
/// in the frame of the coroutine that serves it (serve_connection).
template <typename Stream>
class Connection {
public:
    Connection(std::shared_ptr<ConnectionShared> shared, Stream stream)
        : shared_(std::move(shared)), stream_(std::move(stream)), slot(beast::get_lowest_layer(stream_))
    {
        beast::error_code ec;
        const auto remote = beast::get_lowest_layer(stream_).remote_endpoint(ec);
        peer_ip_ = ec ? std::string("-") : remote.address().to_string();
    }

    [[nodiscard]] const std::string& peer_ip() const noexcept { return peer_ip_; }

    asio::awaitable<void> serve();

private:
    std::shared_ptr<ConnectionShared> shared_;  // keeps what connections share alive as long as this lasts
    Stream stream_;

public:
    ConnectionSlot slot;  // refers to stream_'s socket, so declared after it

private:
    beast::flat_buffer buffer_;
    std::string peer_ip_;
    // A response's header block, and the buffers of its write: kept from one response to the next, so
    // that their memory is allocated once per connection.
    std::string header_block_;
    std::vector<asio::const_buffer> gather_;

    void expires_after(std::chrono::seconds timeout) { slot.deadline = Clock::now() + timeout; }
    [[nodiscard]] std::chrono::seconds write_timeout() const
    {
        return std::chrono::seconds(shared_->limits.write_timeout_s);
    }

    void skip_empty_lines();
    enum class Until : std::uint8_t { header, message };
    // NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters): serve() awaits it with its own parser
    asio::awaitable<beast::error_code> parse(RequestParser& parser, Until until);
    [[nodiscard]] RejectedRequest rejected(const RequestParser& parser) const;
    asio::awaitable<void> reject_and_close(RejectedRequest request, Status status, std::string_view message);
    asio::awaitable<void> close_gently();
    asio::awaitable<beast::error_code> write(Response response, bool header_only = false);
    asio::awaitable<beast::error_code> write_parts(std::shared_ptr<BodyStream> stream, bool chunked);
    template <typename Buffers>
    asio::awaitable<beast::error_code> write_all(Buffers buffers);
};

/// Beast reads a chunk extension's quoted string whole, control characters and all, where RFC 9112
/// section 7.1.1 allows none (but HTAB): a proxy that ends the line at a bare LF in it would frame the body
/// differently. (A variable: Beast keeps a reference to the callback it is given.)
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): Beast takes a non-const reference
auto refuse_control_characters = [](std::uint64_t /*size*/, beast::string_view extensions, beast::error_code& ec) {
    if (has_control_character(extensions)) {
        ec = beast_http::error::bad_chunk_extension;
    }
};

template <typename Stream>
RejectedRequest Connection<Stream>::rejected(const RequestParser& parser) const
{
    const auto& header = parser.get();
    RejectedRequest request;
    request.peer_ip = peer_ip_;
    request.method = std::string(header.method_string());
    request.uri = std::string(header.target());
    request.request_id = std::string(header["X-Request-ID"]);
    request.version = header.version() == 10 ? 10 : 11;
    return request;
}

/// Sends a final error response, then closes gently.
template <typename Stream>
asio::awaitable<void> Connection<Stream>::reject_and_close(RejectedRequest request, Status status,
                                                           std::string_view message)
{
    auto response = shared_->app.reject(request, status, message);
    const auto write_ec = co_await write(std::move(response));
    if (!write_ec) {
        co_await close_gently();
    }
}

/// After the last response: stop sending, then read and drop what the client still sends (for a moment,
/// and at most max_body_bytes) before the socket closes. Closing on unread bytes would send a reset, and a
/// Drops the empty lines a client may send before a request line.
template <typename Stream>
void Connection<Stream>::skip_empty_lines()
{
    buffer_.consume(
        leading_empty_lines(std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size())));
}

/// Feeds the parser what the buffer holds, reading more while it needs more, until it has the header or the
/// whole message. Beast's async_read_header and async_read do the same through composed operations that,
/// when the buffer already holds what is needed (a request that came in one read: the usual case), complete
/// by a post through the event loop; this awaits the reads alone. Empty lines before the request line are
/// skipped.
template <typename Stream>
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters): serve() awaits it with its own parser
asio::awaitable<beast::error_code> Connection<Stream>::parse(RequestParser& parser, Until until)
{
    beast::error_code ec;
    while (!(until == Until::header ? parser.is_header_done() : parser.is_done())) {
        if (!parser.got_some()) {
            skip_empty_lines();
        }
        if (buffer_.size() > 0) {
            // Past the header, what the parser leaves unread is a chunk's size line or the trailer fields,
            // which Beast does not bound: it is offered at most max_header_bytes at a time, and one that does
            // not fit is refused like a header block too large.
            const auto window =
                until == Until::header ? buffer_.size() : std::min(buffer_.size(), shared_->limits.max_header_bytes);
            std::size_t used = 0;
            try {
                used = parser.put(asio::buffer(buffer_.data().data(), window), ec);
            } catch (const std::length_error&) {
                co_return beast_http::error::header_limit;  // a field value over 64 KiB, which Beast cannot hold
            }
            buffer_.consume(used);
            if (ec != beast_http::error::need_more || used > 0) {
                if (ec && ec != beast_http::error::need_more) {
                    co_return ec;
                }
                continue;
            }
            if (until == Until::message && window == shared_->limits.max_header_bytes) {
                co_return beast_http::error::header_limit;
            }
            // What the parser leaves unread in a chunked body is all protocol lines (it takes chunk data as it
            // comes): one ended by a bare LF would never end for it.
            if (until == Until::message && parser.chunked() &&
                has_bare_line_feed(std::string_view(static_cast<const char*>(buffer_.data().data()), window))) {
                co_return beast_http::error::bad_line_ending;
            }
        }
        auto [read_ec, n] =
            co_await stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, max_read_size)), use_tuple);
        buffer_.commit(n);
        if (read_ec == asio::error::eof) {
            if (!parser.got_some()) {
                co_return beast_http::error::end_of_stream;
            }
            parser.put_eof(ec);  // a request cut short: partial_message
            co_return ec;
        }
        if (read_ec) {
            co_return read_ec;
        }
    }
    co_return beast::error_code{};
}

/// reset destroys whatever of the response the client has not read yet.
template <typename Stream>
asio::awaitable<void> Connection<Stream>::close_gently()
{
    auto& socket = beast::get_lowest_layer(stream_);
    slot.deadline = Clock::now() + linger_timeout;
    if constexpr (is_tls<Stream>) {
        // TLS closes with close_notify, and waits a moment for the client's. After it, a client sends
        // nothing more; a client that sends more instead (pipelined requests) ends the wait with an error,
        // and the rest of what it sent is dropped below as it comes, unread by TLS.
        auto [ec] = co_await stream_.async_shutdown(use_tuple);
        if (!ec) {
            co_return;
        }
    }
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    for (std::size_t discarded = 0; discarded < shared_->limits.max_body_bytes;) {
        buffer_.clear();
        auto [ec, n] = co_await socket.async_read_some(buffer_.prepare(idle_read_size), use_tuple);
        if (ec) {
            break;
        }
        discarded += n;
    }
}

/// Writes a response, which the coroutine owns while it writes, with the two writers Beast's serializer is
/// made of: the fields' writer makes the header block, copied into one buffer, and ResponseBody's writer
/// yields the body's own bytes (the entry as the store keeps it), never copied; both go in one write. The
/// serializer itself offers the same bytes through a stack of buffer views (prefix of suffix of a
/// concatenation, each step a variant visit) and a buffer per field: walking that on every write took
/// about a tenth of a GET's time in user space. Every write that makes progress, and every byte the client
/// reads (the sweep looks), renews the deadline: a client that reads slowly is served, one that reads
/// nothing for the write timeout is closed. A response to HEAD is its header block alone; a streamed body
/// follows its header block part by part (chunked in HTTP/1.1: the app chunks no other body).
template <typename Stream>
asio::awaitable<beast::error_code> Connection<Stream>::write(Response response, bool header_only)
{
    const auto stream = response.body().stream();
    {
        const Response::fields_type::writer fields(response, response.version(), response.result_int());
        const auto header = fields.get();  // named: the range below refers to it
        header_block_.clear();
        for (const auto buffer : beast::buffers_range_ref(header)) {  // one walk of the sequence
            header_block_.append(static_cast<const char*>(buffer.data()), buffer.size());
        }
    }
    gather_.assign(1, asio::buffer(header_block_));
    if (!header_only && !stream) {
        ResponseBody::writer body(response.base(), response.body());
        beast::error_code ec;
        body.init(ec);
        for (auto part = body.get(ec); !ec && part; part = part->second ? body.get(ec) : boost::none) {
            gather_.push_back(part->first);
        }
        if (ec) {
            co_return ec;
        }
    }
    if (const auto written = co_await write_all(std::span<const asio::const_buffer>(gather_));
        written || header_only || !stream) {
        co_return written;
    }
    co_return co_await write_parts(stream, response.chunked());
}

/// Writes each part of a stream as the store gives it, each write awaited before the next part is read: a
/// client that reads slowly slows the reading of the store, and what waits in memory is one part. Chunked:
/// each part a chunk, then the last chunk; otherwise (HTTP/1.0) the close ends the body. A store that fails
/// midway throws: the connection closes without the last chunk, so the client sees a body that did not end.
template <typename Stream>
asio::awaitable<beast::error_code> Connection<Stream>::write_parts(std::shared_ptr<BodyStream> stream, bool chunked)
{
    for (;;) {
        slot.deadline = never;  // reading the store takes the time it takes; only I/O has deadlines
        const auto part = co_await stream->next();
        if (part.empty()) {
            break;
        }
        const auto ec = chunked ? co_await write_all(beast_http::make_chunk(asio::buffer(part)))
                                : co_await write_all(asio::buffer(part));
        if (ec) {
            co_return ec;
        }
    }
    if (chunked) {
        co_return co_await write_all(beast_http::make_chunk_last());
    }
    co_return beast::error_code{};
}

/// Writes all of buffers (whose bytes outlive the write) under the write deadline, renewed as in write().
template <typename Stream>
template <typename Buffers>
asio::awaitable<beast::error_code> Connection<Stream>::write_all(Buffers buffers)
{
    beast::buffers_suffix<Buffers> unsent(buffers);
    slot.start_writing();
    beast::error_code result;
    while (beast::buffer_bytes(unsent) != 0) {
        expires_after(write_timeout());
        auto [ec, n] = co_await stream_.async_write_some(unsent, use_tuple);
        if (ec) {
            result = ec;
            break;
        }
        unsent.consume(n);
    }
    slot.writing = false;
    co_return result;
}

template <typename Stream>
asio::awaitable<void> Connection<Stream>::serve()
{
    const Limits& bounds = shared_->limits;
    const auto header_timeout = std::chrono::seconds(bounds.header_timeout_s);
    const auto request_timeout = std::chrono::seconds(bounds.request_timeout_s);
    const auto idle_timeout = std::chrono::seconds(bounds.idle_timeout_s);
    if constexpr (is_tls<Stream>) {
        // The handshake is held to the header timeout, however the client trickles it.
        slot.deadline = Clock::now() + header_timeout;
        auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_tuple);
        if (ec) {
            co_return;  // not TLS (plain HTTP, say), or too slow: nothing can be answered
        }
    }
    bool first = true;
    while (!shared_->stopping) {
        // Between requests the connection may idle; once a request starts, its header must arrive within
        // the header timeout. A new connection is held to the header timeout.
        if (!first) {
            skip_empty_lines();
        }
        while (!first && buffer_.size() == 0) {
            expires_after(idle_timeout);
            auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(idle_read_size), use_tuple);
            if (ec || shared_->stopping) {
                co_return;
            }
            buffer_.commit(n);
            skip_empty_lines();
        }
        first = false;

        // A fresh parser per request, with our bounds.
        RequestParser parser;
        parser.header_limit(static_cast<std::uint32_t>(bounds.max_header_bytes));
        parser.body_limit(bounds.max_body_bytes);
        // The request has begun: its header must arrive within the header timeout, and all of it within
        // the request timeout.
        const auto request_deadline = Clock::now() + request_timeout;
        slot.deadline = std::min(Clock::now() + header_timeout, request_deadline);
        const auto header_ec = co_await parse(parser, Until::header);
        if (header_ec) {
            if (header_ec == beast_http::error::header_limit) {
                co_await reject_and_close(rejected(parser), Status::request_header_fields_too_large,
                                          "Request Header Fields Too Large");
            } else if (header_ec == beast_http::error::body_limit) {
                co_await reject_and_close(rejected(parser), Status::payload_too_large, "Payload Too Large");
            } else if (!is_quiet_close(header_ec) && header_ec != beast_http::error::partial_message) {
                co_await reject_and_close(rejected(parser), Status::bad_request, "Bad Request");
            }
            co_return;
        }
        if (!beast::get_lowest_layer(stream_).is_open()) {
            co_return;  // its deadline passed as the header completed
        }
        slot.busy = true;

        const auto& header = parser.get();
        if (const auto problem = framing_problem(header)) {
            co_await reject_and_close(rejected(parser), problem->status, problem->message);
            co_return;
        }
        if (const auto length = parser.content_length(); length && *length > bounds.max_body_bytes) {
            co_await reject_and_close(rejected(parser), Status::payload_too_large, "Payload Too Large");
            co_return;
        }
        if (!parser.is_done()) {
            if (beast::iequals(header[beast_http::field::expect], "100-continue") && header.version() >= 11) {
                beast_http::response<beast_http::empty_body> interim{Status::continue_, header.version()};
                expires_after(write_timeout());
                auto [ec, n] = co_await beast_http::async_write(stream_, interim, use_tuple);
                if (ec) {
                    co_return;
                }
            }
            slot.deadline = request_deadline;
            parser.eager(true);  // the body as it comes, not a part at a time
            if (parser.chunked()) {
                parser.on_chunk_header(refuse_control_characters);
            }
            const auto body_ec = co_await parse(parser, Until::message);
            if (body_ec == beast_http::error::body_limit) {
                co_await reject_and_close(rejected(parser), Status::payload_too_large, "Payload Too Large");
                co_return;
            }
            if (body_ec == beast_http::error::header_limit) {
                co_await reject_and_close(rejected(parser), Status::request_header_fields_too_large,
                                          "Request Header Fields Too Large");
                co_return;
            }
            if (body_ec) {
                if (!is_quiet_close(body_ec) && body_ec != beast_http::error::partial_message) {
                    co_await reject_and_close(rejected(parser), Status::bad_request, "Bad Request");
                }
                co_return;
            }
            if (!beast::get_lowest_layer(stream_).is_open()) {
                co_return;  // its deadline passed as the body completed
            }
        }

        const bool head = header.method() == beast_http::verb::head;
        slot.deadline = never;  // the application takes the time it takes; only I/O has deadlines
        auto response = co_await shared_->app.handle(parser.release(), peer_ip_);
        if (shared_->stopping) {
            response.keep_alive(false);
        }
        const bool keep_alive = response.keep_alive();
        const auto write_ec = co_await write(std::move(response), head);
        slot.busy = false;
        if (write_ec) {
            co_return;
        }
        if (!keep_alive) {
            co_await close_gently();
            co_return;
        }
    }
}

}  // namespace

void ConnectionSlot::start_writing() noexcept
{
    writing = true;
    queued_ = std::numeric_limits<int>::max();
}

void ConnectionSlot::note_write_progress(Clock::time_point now, Clock::duration write_timeout) noexcept
{
    int queued = 0;
    if (!writing || ::ioctl(socket_.native_handle(), TIOCOUTQ, &queued) != 0) {
        return;
    }
    if (queued < queued_) {
        deadline = now + write_timeout;
    }
    queued_ = queued;
}

void ConnectionSlot::cancel() noexcept
{
    beast::error_code ignored;
    socket_.cancel(ignored);
}

void ConnectionSlot::close() noexcept
{
    deadline = never;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

template <typename Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<ConnectionShared> shared, Stream stream)
{
    Connection<Stream> connection(shared, std::move(stream));
    const auto it = shared->connections.insert(shared->connections.end(), &connection.slot);
    shared->app.metrics().connection_opened();
    try {
        co_await connection.serve();
    } catch (const std::exception& e) {
        LogFields fields;
        fields.add("ip", connection.peer_ip()).add("message", "CONNECTION ERROR").add("error", e.what());
        shared->logger.log(LogLevel::error, fields);
    }
    connection.slot.close();
    shared->connections.erase(it);
    shared->app.metrics().connection_closed();
    if (shared->stopping && shared->connections.empty() && shared->on_last_closed) {
        shared->on_last_closed();
    }
}

template asio::awaitable<void> serve_connection<tcp::socket>(std::shared_ptr<ConnectionShared> shared,
                                                             tcp::socket stream);
template asio::awaitable<void> serve_connection<TlsStream>(std::shared_ptr<ConnectionShared> shared, TlsStream stream);

}  // namespace addrservice::http
