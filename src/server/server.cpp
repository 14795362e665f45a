#include "server/server.hpp"

#include "server/app.hpp"
#include "server/connection.hpp"
#include "server/response_body.hpp"
#include "server/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace addrservice::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto drain_timeout = std::chrono::seconds(10);
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);
// How often deadlines are checked: a connection is closed at most this long after its deadline.
constexpr auto sweep_interval = std::chrono::milliseconds(250);

/// At most this many bytes of a response wait unsent in the kernel; the rest stays with the connection
/// until the socket drains. Data queued in the kernel is sent when the reader's acknowledgements open the
/// window, which on loopback happens on the reader's core; written in parts, it is sent from ours. Data in
/// flight is not limited, so neither is the throughput to a distant client. A 10,000-entry list to a local
/// client: 150 requests/s without, 225 with (tools/run.py bench --workload list-10k).
constexpr int unsent_bytes_limit = 64 * 1024;

/// An integer socket option that Asio does not name, as its SettableSocketOption requirements describe one.
template <int Level, int Name>
class IntegerOption {
public:
    explicit IntegerOption(int value) noexcept : value_(value) {}
    template <typename Protocol>
    [[nodiscard]] int level(const Protocol& /*protocol*/) const noexcept
    {
        return Level;
    }
    template <typename Protocol>
    [[nodiscard]] int name(const Protocol& /*protocol*/) const noexcept
    {
        return Name;
    }
    template <typename Protocol>
    [[nodiscard]] const int* data(const Protocol& /*protocol*/) const noexcept
    {
        return &value_;
    }
    template <typename Protocol>
    [[nodiscard]] std::size_t size(const Protocol& /*protocol*/) const noexcept
    {
        return sizeof(value_);
    }

private:
    int value_;
};

using notsent_lowat = IntegerOption<IPPROTO_TCP, TCP_NOTSENT_LOWAT>;
using reuse_port_option = IntegerOption<SOL_SOCKET, SO_REUSEPORT>;

/// Completion of a connection's coroutine, which catches and logs what it can handle itself.
void coroutine_done(const std::exception_ptr& /*unexpected*/) noexcept {}

/// The text of the exception being handled; call it in a catch block.
std::string current_exception_text()
{
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

/// The listener: accepts, hands each connection to serve_connection, checks the deadlines, drains.
struct Server::State : std::enable_shared_from_this<State> {
    State(asio::io_context& io_context, App& app, Logger& logger, const Limits& limits,
          std::shared_ptr<const TlsContext> tls_context)
        : io(io_context),
          shared(std::make_shared<ConnectionShared>(app, logger, limits)),
          tls(std::move(tls_context)),
          acceptor(io_context),
          drain_timer(io_context),
          sweep_timer(io_context)
    {
    }

    asio::io_context& io;
    std::shared_ptr<ConnectionShared> shared;
    std::shared_ptr<const TlsContext> tls;  // null: plain HTTP
    tcp::acceptor acceptor;
    asio::steady_timer drain_timer;
    asio::steady_timer sweep_timer;
    bool sweeping = true;
    std::function<void()> drained;
    std::function<void(std::string_view)> fault_hook;  // tests only: throws to stand for a fault

    void notify_drained()
    {
        drain_timer.cancel();
        sweeping = false;
        sweep_timer.cancel();
        if (drained) {
            auto callback = std::move(drained);
            drained = nullptr;
            callback();
        }
    }

    void close_all();
    void shutdown();

    asio::awaitable<void> accept_loop();
    void take(tcp::socket socket);
    asio::awaitable<void> sweep_loop();
    void close_expired();
    void reject_over_limit(tcp::socket socket);
    void log_failure(std::string_view message, std::string_view error) noexcept;
    void loop_ended(std::string_view message, const std::exception_ptr& failure) noexcept;
};

void Server::State::close_all()
{
    for (auto* connection : shared->connections) {
        connection->close();
    }
}

void Server::State::shutdown()
{
    if (shared->stopping) {
        close_all();  // a second signal: stop waiting for requests in flight
        return;
    }
    shared->stopping = true;
    shared->app.set_draining();
    beast::error_code ignored;
    acceptor.close(ignored);
    for (auto* connection : shared->connections) {
        if (!connection->busy) {
            connection->cancel();
        }
    }
    if (shared->connections.empty()) {
        notify_drained();
    } else {
        drain_timer.expires_after(drain_timeout);
        drain_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) {
                self->close_all();
            }
        });
    }
}

asio::awaitable<void> Server::State::accept_loop()
{
    const auto self = shared_from_this();
    while (acceptor.is_open()) {
        bool pause = false;
        try {
            auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
            if (ec == asio::error::operation_aborted || !acceptor.is_open() || shared->stopping) {
                co_return;
            }
            if (ec) {
                // Out of descriptors, say: report it and give the process a moment before retrying.
                log_failure("ACCEPT FAILED", ec.message());
                pause = true;
            } else {
                take(std::move(socket));
            }
        } catch (...) {
            // A fault of ours: that connection is lost, the listener goes on.
            log_failure("ACCEPT FAILED", current_exception_text());
            pause = true;
        }
        if (pause) {
            asio::steady_timer timer(io, accept_retry_delay);
            co_await timer.async_wait(use_tuple);
        }
    }
}

/// Serves a connection just accepted; past max_connections, refuses it.
void Server::State::take(tcp::socket socket)
{
    if (fault_hook) {
        fault_hook("accept");
    }
    if (shared->connections.size() >= shared->limits.max_connections) {
        reject_over_limit(std::move(socket));
        return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.set_option(notsent_lowat(unsent_bytes_limit), ignored);
    if (tls) {
        // The stream's SSL object holds its own reference to the context: a reload cannot pull it away.
        const auto context = tls->current();
        asio::co_spawn(io, serve_connection(shared, TlsStream(std::move(socket), *context)), &coroutine_done);
    } else {
        asio::co_spawn(io, serve_connection(shared, std::move(socket)), &coroutine_done);
    }
}

asio::awaitable<void> Server::State::sweep_loop()
{
    const auto self = shared_from_this();
    while (sweeping) {
        sweep_timer.expires_after(sweep_interval);
        auto [ec] = co_await sweep_timer.async_wait(use_tuple);
        if (ec || !sweeping) {
            co_return;
        }
        try {
            close_expired();
        } catch (...) {
            // A fault of ours: the next sweep checks every deadline again.
            log_failure("SWEEP FAILED", current_exception_text());
        }
    }
}

/// Closes every connection whose deadline has passed.
void Server::State::close_expired()
{
    if (fault_hook) {
        fault_hook("sweep");
    }
    const auto now = Clock::now();
    const auto write_timeout = std::chrono::seconds(shared->limits.write_timeout_s);
    for (auto* connection : shared->connections) {
        connection->note_write_progress(now, write_timeout);
        if (connection->deadline <= now) {
            connection->close();
        }
    }
}

void Server::State::log_failure(std::string_view message, std::string_view error) noexcept
{
    try {
        LogFields fields;
        fields.add("message", message).add("error", error);
        shared->logger.log(LogLevel::error, fields);
    } catch (...) {
        // Out of memory: the line is lost, the loop goes on.
    }
}

/// The completion of the accept and sweep loops, which end when the server stops: a loop that ended
/// on an exception (none should) is reported, never dropped.
void Server::State::loop_ended(std::string_view message, const std::exception_ptr& failure) noexcept
{
    if (!failure) {
        return;
    }
    try {
        std::rethrow_exception(failure);
    } catch (...) {
        log_failure(message, current_exception_text());
    }
}

/// Past max_connections: a best-effort 503 without waiting on the client (not under TLS, whose handshake
/// would have to wait), then close.
void Server::State::reject_over_limit(tcp::socket socket)
{
    beast::error_code ec;
    if (tls) {
        socket.close(ec);
        return;
    }
    const auto remote = socket.remote_endpoint(ec);
    RejectedRequest request;
    request.peer_ip = ec ? std::string("-") : remote.address().to_string();
    auto response = shared->app.reject(request, Status::service_unavailable, "Service Unavailable");
    beast_http::response_serializer<ResponseBody> serializer(response);
    socket.non_blocking(true, ec);
    if (!ec) {
        beast_http::write(socket, serializer, ec);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

Server::Server(asio::io_context& io, App& app, Logger& logger, const std::string& host, std::uint16_t port,
               const Limits& limits, bool reuse_port, std::shared_ptr<const TlsContext> tls)
    : state_(std::make_shared<State>(io, app, logger, limits, std::move(tls)))
{
    state_->shared->on_last_closed = [weak = std::weak_ptr<State>(state_)] {
        if (const auto state = weak.lock()) {
            state->notify_drained();
        }
    };
    try {
        const tcp::endpoint endpoint(asio::ip::make_address(host), port);
        auto& acceptor = state_->acceptor;
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        if (reuse_port) {
            acceptor.set_option(reuse_port_option(1));
        }
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
        throw ListenError(e.code(), "listen");
    }
}

Server::~Server() = default;

std::uint16_t Server::port() const noexcept
{
    beast::error_code ec;
    return state_->acceptor.local_endpoint(ec).port();
}

void Server::start()
{
    asio::co_spawn(state_->io, state_->accept_loop(), [state = state_](const std::exception_ptr& failure) {
        state->loop_ended("ACCEPT LOOP FAILED", failure);
    });
    asio::co_spawn(state_->io, state_->sweep_loop(), [state = state_](const std::exception_ptr& failure) {
        state->loop_ended("SWEEP LOOP FAILED", failure);
    });
}

void Server::inject_faults(std::function<void(std::string_view step)> hook)
{
    state_->fault_hook = std::move(hook);
}

void Server::shutdown()
{
    state_->shutdown();
}

void Server::on_drained(std::function<void()> callback)
{
    state_->drained = std::move(callback);
}

std::size_t Server::connections() const noexcept
{
    return state_->shared->connections.size();
}

}  // namespace addrservice::http
