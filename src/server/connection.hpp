#pragma once

#include "addrservice/config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <memory>

namespace addrservice {
class Logger;
}  // namespace addrservice

namespace addrservice::http {

class App;

using Clock = std::chrono::steady_clock;

/// What the server knows of an open connection: enough to enforce its deadline and to close it.
class ConnectionSlot {
public:
    explicit ConnectionSlot(boost::asio::ip::tcp::socket& socket) noexcept : socket_(socket) {}

    /// The I/O under way must finish by then, or the server's sweep closes the connection. A deadline per
    /// connection, checked by one timer for all, costs no timer operation (and no syscall) per read or write.
    Clock::time_point deadline = Clock::time_point::max();
    /// A request's header has been read and its response is not yet written.
    bool busy = false;
    /// A response is being written: the deadline is renewed whenever the client reads some of it.
    bool writing = false;

    /// While writing, renews the deadline (to now + write_timeout) when the kernel holds fewer unsent or
    /// unacknowledged bytes than at the last look: the client read some. A write that waits on a full
    /// socket buffer sees no completion for as long as the client takes to drain it, reading or not.
    void note_write_progress(Clock::time_point now, Clock::duration write_timeout) noexcept;
    /// Starts a write: progress is counted from here.
    void start_writing() noexcept;

    /// Cancels the I/O under way (an idle connection's serving coroutine then ends).
    void cancel() noexcept;
    /// Closes the connection for good: the I/O under way ends, and any that follows fails at once. (A
    /// cancellation alone misses an operation whose completion is already queued, and the next step of a
    /// composed read would then run with no deadline.)
    void close() noexcept;

private:
    boost::asio::ip::tcp::socket& socket_;  // the TCP socket, under TLS when there is TLS
    int queued_ = 0;                        // bytes in the socket's send queue at the last look
};

/// What the connections of one server share. The server owns it; each connection keeps it alive.
struct ConnectionShared {
    ConnectionShared(App& application, Logger& log, const Limits& limits_)
        : app(application), logger(log), limits(limits_)
    {
    }

    App& app;
    Logger& logger;
    Limits limits;
    bool stopping = false;                   // shutdown has begun: no new request is read
    std::list<ConnectionSlot*> connections;  // every open connection, for shutdown and deadlines
    std::function<void()> on_last_closed;    // called when the last connection closes after shutdown began
};

/// A connection's stream under HTTPS.
using TlsStream = boost::beast::ssl_stream<boost::asio::ip::tcp::socket>;

/// Serves one connection from accept to close: read, handle, write one request at a time (so pipelined
/// responses keep their order), within the limits. Stream is a TCP socket, or a TlsStream over one whose
/// handshake is still to come (it must finish within the header timeout). Defined and instantiated for both
/// in connection.cpp.
template <typename Stream>
boost::asio::awaitable<void> serve_connection(std::shared_ptr<ConnectionShared> shared, Stream stream);

}  // namespace addrservice::http
