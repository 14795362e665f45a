#pragma once

#include "addrservice/config.hpp"
#include "addrservice/logging.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace addrservice::http {

class App;
class TlsContext;

/// The listening socket could not be opened, bound or set listening (a port in use, say).
class ListenError : public std::system_error {
public:
    using std::system_error::system_error;
};

/// The HTTP/1.1 server: an acceptor and one coroutine per connection on a single-threaded io_context.
/// Each connection reads, handles and writes one request at a time (so pipelined responses keep their
/// order), with the limits and timeouts of Limits.
class Server {
public:
    /// Binds and listens at once (port 0 picks a free port). Throws ListenError when it cannot.
    /// With reuse_port, several processes may listen on the same port (SO_REUSEPORT). With tls, every
    /// connection is HTTPS, with the context current when it is accepted.
    Server(boost::asio::io_context& io, App& app, Logger& logger, const std::string& host, std::uint16_t port,
           const Limits& limits, bool reuse_port = false, std::shared_ptr<const TlsContext> tls = nullptr);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;

    /// The port actually bound.
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// Starts accepting; call once, then run the io_context.
    void start();
    /// Graceful stop: readiness turns 503, the listener closes, idle connections close, requests in
    /// flight finish (for at most drain_timeout), then every connection is closed and run() returns.
    /// Safe to call more than once; call it on the io_context's thread.
    void shutdown();
    /// Called once, after shutdown(), when the last connection has closed.
    void on_drained(std::function<void()> callback);
    /// The number of open connections.
    [[nodiscard]] std::size_t connections() const noexcept;
    /// For tests: hook is called at each step of the accept loop ("accept", with a connection just
    /// accepted) and of the deadline sweep ("sweep", at each tick); what it throws stands for an
    /// unexpected fault there, which the loop logs at ERROR and survives. Call it on the io_context's thread.
    void inject_faults(std::function<void(std::string_view step)> hook);

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace addrservice::http
