#include "server/server.hpp"

#include "addrservice/address_service.hpp"
#include "addrservice/store/store_factory.hpp"
#include "addrservice/version.hpp"
#include "server/app.hpp"
#include "server/framing.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <exception>
#include <functional>
#include <iterator>
#include <list>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/socket.h>
#include <system_error>
#include <tuple>
#include <unistd.h>

namespace addrservice::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto drain_timeout = std::chrono::seconds(10);
constexpr auto linger_timeout = std::chrono::seconds(1);
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);
constexpr std::size_t idle_read_size = 4096;
// How often deadlines are checked: a connection is closed at most this long after its deadline.
constexpr auto sweep_interval = std::chrono::milliseconds(250);
using Clock = std::chrono::steady_clock;
constexpr auto never = Clock::time_point::max();

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

/// SIGHUP never stops the process: it is ignored whenever no handler listens for it (while the store
/// opens, and once the event loop has ended, when Asio has put back the default action, which terminates).
void ignore_hangups() noexcept
{
    struct sigaction action {};
    action.sa_handler = SIG_IGN;  // NOLINT(cppcoreguidelines-pro-type-union-access): sigaction's layout
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGHUP, &action, nullptr);
}

bool is_quiet_close(const beast::error_code& ec)
{
    return ec == beast_http::error::end_of_stream || ec == asio::error::operation_aborted ||
           ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::broken_pipe ||
           ec == asio::error::bad_descriptor;
}

/// The status line and header block of a response, as HTTP/1.1 writes them, into out (whose storage is
/// reused from one response to the next).
void serialize_head(const Response& response, std::string& out)
{
    const unsigned code = response.result_int();
    out.assign(response.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    out += static_cast<char>('0' + code / 100 % 10);
    out += static_cast<char>('0' + code / 10 % 10);
    out += static_cast<char>('0' + code % 10);
    out += ' ';
    out += response.reason();
    out += "\r\n";
    for (const auto& field : response) {
        out += field.name_string();
        out += ": ";
        out += field.value();
        out += "\r\n";
    }
    out += "\r\n";
}

/// Lets the process hold as many sockets as it may: the soft limit on open files (often 1024) up to the
/// hard one, so that max_connections is not cut short by EMFILE.
void raise_open_file_limit() noexcept
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

struct Server::State : std::enable_shared_from_this<State> {
    struct Connection;

    State(asio::io_context& io_context, App& application, Logger& log, const Limits& limits_)
        : io(io_context),
          app(application),
          logger(log),
          limits(limits_),
          acceptor(io_context),
          drain_timer(io_context),
          sweep_timer(io_context)
    {
    }

    asio::io_context& io;
    App& app;
    Logger& logger;
    Limits limits;
    tcp::acceptor acceptor;
    asio::steady_timer drain_timer;
    asio::steady_timer sweep_timer;
    std::list<Connection*> connections;  // every open connection, for shutdown and deadlines
    bool stopping = false;
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

/// One client connection: its socket and buffer, read -> handle -> write one request at a time.
/// The coroutine that serves it owns it, and takes no reference parameters.
struct Server::State::Connection {
    Connection(std::shared_ptr<State> owner, tcp::socket socket_) : state(std::move(owner)), socket(std::move(socket_))
    {
        beast::error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        peer_ip = ec ? std::string("-") : remote.address().to_string();
    }

    std::shared_ptr<State> state;  // keeps the server's state alive for as long as the connection lasts
    tcp::socket socket;
    beast::flat_buffer buffer;
    std::string head;  // the serialized status line and header of the response being written
    std::string peer_ip;
    bool busy = false;  // a request's header has been read and its response is not yet written
    // The I/O under way must finish by then, or the sweep closes the connection. A deadline per connection,
    // checked by one timer for all, costs no timer operation (and no syscall) per read or write.
    Clock::time_point deadline = never;

    void expires_after(std::chrono::seconds timeout) { deadline = Clock::now() + timeout; }

    [[nodiscard]] RejectedRequest rejected(const beast_http::request_parser<beast_http::string_body>& parser) const
    {
        const auto& header = parser.get();
        RejectedRequest request;
        request.peer_ip = peer_ip;
        request.method = std::string(header.method_string());
        request.uri = std::string(header.target());
        request.request_id = std::string(header["X-Request-ID"]);
        request.version = header.version() == 10 ? 10 : 11;
        return request;
    }

    /// Sends a final error response, then closes gently.
    asio::awaitable<void> reject_and_close(RejectedRequest request, Status status, std::string_view message)
    {
        auto response = state->app.reject(request, status, message);
        const auto write_ec = co_await write(response);
        if (!write_ec) {
            co_await close_gently();
        }
    }

    /// After the last response: stop sending, then read and drop what the client still sends (for a
    /// moment, and at most max_body_bytes) before the socket closes. Closing on unread bytes would send a
    /// reset, and a reset destroys whatever of the response the client has not read yet.
    asio::awaitable<void> close_gently()
    {
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        deadline = Clock::now() + linger_timeout;
        for (std::size_t discarded = 0; discarded < state->limits.max_body_bytes;) {
            buffer.clear();
            auto [ec, n] = co_await socket.async_read_some(buffer.prepare(idle_read_size), use_tuple);
            if (ec) {
                break;
            }
            discarded += n;
        }
    }

    asio::awaitable<void> serve()
    {
        const Limits& bounds = state->limits;
        const auto header_timeout = std::chrono::seconds(bounds.header_timeout_s);
        const auto request_timeout = std::chrono::seconds(bounds.request_timeout_s);
        const auto idle_timeout = std::chrono::seconds(bounds.idle_timeout_s);
        bool first = true;
        while (!state->stopping) {
            // Between requests the connection may idle; once a request starts, its header must
            // arrive within the header timeout. A new connection is held to the header timeout.
            if (!first && buffer.size() == 0) {
                expires_after(idle_timeout);
                auto [ec, n] = co_await socket.async_read_some(buffer.prepare(idle_read_size), use_tuple);
                if (ec || state->stopping) {
                    co_return;
                }
                buffer.commit(n);
            }
            first = false;

            // A fresh parser per request, with our bounds.
            beast_http::request_parser<beast_http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(bounds.max_header_bytes));
            parser.body_limit(bounds.max_body_bytes);
            // The request has begun: its header must arrive within the header timeout, and all of it
            // within the request timeout.
            const auto request_deadline = Clock::now() + request_timeout;
            deadline = std::min(Clock::now() + header_timeout, request_deadline);
            auto [header_ec, header_bytes] = co_await beast_http::async_read_header(socket, buffer, parser, use_tuple);
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
            if (!socket.is_open()) {
                co_return;  // its deadline passed as the header completed
            }
            busy = true;

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
                    auto [ec, n] = co_await beast_http::async_write(socket, interim, use_tuple);
                    if (ec) {
                        co_return;
                    }
                }
                deadline = request_deadline;
                auto [body_ec, body_bytes] = co_await beast_http::async_read(socket, buffer, parser, use_tuple);
                if (body_ec == beast_http::error::body_limit) {
                    co_await reject_and_close(rejected(parser), Status::payload_too_large, "Payload Too Large");
                    co_return;
                }
                if (body_ec) {
                    if (!is_quiet_close(body_ec) && body_ec != beast_http::error::partial_message) {
                        co_await reject_and_close(rejected(parser), Status::bad_request, "Bad Request");
                    }
                    co_return;
                }
                if (!socket.is_open()) {
                    co_return;  // its deadline passed as the body completed
                }
            }

            deadline = never;  // the application takes the time it takes; only I/O has deadlines
            auto response = co_await state->app.handle(parser.release(), peer_ip);
            if (state->stopping) {
                response.keep_alive(false);
            }
            const auto write_ec = co_await write(response);
            busy = false;
            if (write_ec) {
                co_return;
            }
            if (!response.keep_alive()) {
                co_await close_gently();
                co_return;
            }
        }
    }

    [[nodiscard]] std::chrono::seconds write_timeout() const
    {
        return std::chrono::seconds(state->limits.write_timeout_s);
    }

    /// Writes a response, header block and body gathered in each write. Every write that makes progress
    /// renews the deadline: a client that reads slowly is served, one that reads nothing for the write
    /// timeout is closed.
    asio::awaitable<beast::error_code> write(const Response& response)
    {
        serialize_head(response, head);
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body_of(response))};
        beast::buffers_suffix<std::array<asio::const_buffer, 2>> unsent(buffers);
        while (beast::buffer_bytes(unsent) > 0) {
            expires_after(write_timeout());
            auto [ec, n] = co_await socket.async_write_some(unsent, use_tuple);
            if (ec) {
                co_return ec;
            }
            unsent.consume(n);
        }
        co_return beast::error_code{};
    }

    /// Cancels the I/O under way (an idle connection's serving coroutine then ends).
    void cancel()
    {
        beast::error_code ignored;
        socket.cancel(ignored);
    }

    /// Closes the connection for good: the I/O under way ends, and any that follows fails at once. (A
    /// cancellation alone misses an operation whose completion is already queued, and the next step of a
    /// composed read would then run with no deadline.)
    void close()
    {
        deadline = never;
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }
};

namespace {

/// Serves one connection from accept to close; owns it throughout.
asio::awaitable<void> run_connection(std::shared_ptr<Server::State::Connection> connection)
{
    auto& state = *connection->state;
    const auto it = state.connections.insert(state.connections.end(), connection.get());
    state.app.metrics().connection_opened();
    try {
        co_await connection->serve();
    } catch (const std::exception& e) {
        LogFields fields;
        fields.add("ip", connection->peer_ip).add("message", "CONNECTION ERROR").add("error", e.what());
        state.logger.log(LogLevel::error, fields);
    }
    beast::error_code ignored;
    connection->socket.shutdown(tcp::socket::shutdown_both, ignored);
    connection->socket.close(ignored);
    state.connections.erase(it);
    state.app.metrics().connection_closed();
    if (state.stopping && state.connections.empty()) {
        state.notify_drained();
    }
}

}  // namespace

void Server::State::close_all()
{
    for (auto* connection : connections) {
        connection->close();
    }
}

void Server::State::shutdown()
{
    if (stopping) {
        close_all();  // a second signal: stop waiting for requests in flight
        return;
    }
    stopping = true;
    app.set_draining();
    beast::error_code ignored;
    acceptor.close(ignored);
    for (auto* connection : connections) {
        if (!connection->busy) {
            connection->cancel();
        }
    }
    if (connections.empty()) {
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
            if (ec == asio::error::operation_aborted || !acceptor.is_open() || stopping) {
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
    if (connections.size() >= limits.max_connections) {
        reject_over_limit(std::move(socket));
        return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    socket.set_option(notsent_lowat(unsent_bytes_limit), ignored);
    asio::co_spawn(io, run_connection(std::make_shared<Connection>(shared_from_this(), std::move(socket))),
                   &coroutine_done);
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
    for (auto* connection : connections) {
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
        logger.log(LogLevel::error, fields);
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

/// Past max_connections: a best-effort 503 without waiting on the client, then close.
void Server::State::reject_over_limit(tcp::socket socket)
{
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    RejectedRequest request;
    request.peer_ip = ec ? std::string("-") : remote.address().to_string();
    auto response = app.reject(request, Status::service_unavailable, "Service Unavailable");
    beast_http::response_serializer<beast_http::string_body, ResponseFields> serializer(response);
    socket.non_blocking(true, ec);
    if (!ec) {
        beast_http::write(socket, serializer, ec);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

Server::Server(asio::io_context& io, App& app, Logger& logger, const std::string& host, std::uint16_t port,
               const Limits& limits, bool reuse_port)
    : state_(std::make_shared<State>(io, app, logger, limits))
{
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
    return state_->connections.size();
}

namespace {

/// The store that the configuration names. Its thread failing to start is reported as the store's.
std::shared_ptr<AddressStore> open_store(const StoreConfig& config, asio::io_context& io)
{
    try {
        return make_store(config, io);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "cannot start the store");
    }
}

/// Opens the store, serves until SIGINT or SIGTERM and the drain that follows, and closes the store.
void serve_until_stopped(asio::io_context& io, const Config& config, Logger& logger)
{
    auto store = open_store(config.store, io);
    AddressService service(store);
    App app(service, logger, AppOptions{config.debug, config.limits.max_body_bytes});
    Server server(io, app, logger, config.host, config.port, config.limits, config.workers > 1);

    // SIGHUP asks for a reload: logged, and nothing stops (there is nothing to reload yet).
    asio::signal_set reload_signals(io, SIGHUP);
    std::function<void(const beast::error_code&, int)> on_reload = [&](const beast::error_code& ec, int) {
        if (ec) {
            return;
        }
        LogFields fields;
        fields.add("message", "RELOAD").add("signal", "SIGHUP").add("reloaded", "nothing");
        logger.info(fields);
        reload_signals.async_wait(on_reload);
    };
    reload_signals.async_wait(on_reload);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(const beast::error_code&, int)> on_signal = [&](const beast::error_code& ec, int) {
        if (ec) {
            return;
        }
        LogFields fields;
        fields.add("message", "SHUTTING DOWN");
        logger.info(fields);
        // Listen on (before shutdown, which cancels the wait once drained): a second signal stops
        // waiting for requests in flight.
        signals.async_wait(on_signal);
        server.shutdown();
    };
    signals.async_wait(on_signal);

    LogFields starting;
    starting.add("message", "STARTING")
        .add("service_name", config.service_name)
        .add("version", version)
        .add("host", config.host)
        .add("port", static_cast<std::int64_t>(server.port()))
        .add("db", store->describe());
    if (config.workers > 1) {
        starting.add("pid", static_cast<std::int64_t>(::getpid()));
    }
    logger.info(starting);

    server.start();
    // Once drained, nothing is left to do but wait for signals and keep the store's connections (a
    // database store's background work never runs out): stop the loop, and run() returns.
    server.on_drained([&signals, &reload_signals, &io] {
        signals.cancel();
        reload_signals.cancel();
        io.stop();
    });
    io.run();
}

}  // namespace

int run_service(const Config& config, Logger& logger)
{
    raise_open_file_limit();
    ignore_hangups();
    asio::io_context io(1);
    serve_until_stopped(io, config, logger);  // the store is closed when it returns
    ignore_hangups();
    LogFields stopped;
    stopped.add("message", "STOPPED");
    logger.info(stopped);
    return 0;
}

}  // namespace addrservice::http
