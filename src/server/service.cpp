#include "server/service.hpp"

#include "addrservice/address_service.hpp"
#include "addrservice/logging.hpp"
#include "addrservice/store/store_factory.hpp"
#include "addrservice/version.hpp"
#include "server/app.hpp"
#include "server/authorization.hpp"
#include "server/cli.hpp"
#include "server/server.hpp"
#include "server/tls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/error.hpp>

#include <csignal>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace addrservice::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

/// The signals given are ignored from here on, until a handler listens for them. SIGHUP never stops the
/// process: it is ignored while the store opens. Once the event loop has ended, Asio has put back the
/// default action of every signal it handled (which terminates): the stop signals and SIGHUP are then
/// ignored, so that a late one cannot cut the store's close or the last log lines short.
void ignore_signals(std::initializer_list<int> signal_numbers) noexcept
{
    struct sigaction action {};
    action.sa_handler = SIG_IGN;  // NOLINT(cppcoreguidelines-pro-type-union-access): sigaction's layout
    sigemptyset(&action.sa_mask);
    for (const int signal_number : signal_numbers) {
        ::sigaction(signal_number, &action, nullptr);
    }
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

/// The log, as configured. Its writer thread failing to start is reported as the log's.
std::unique_ptr<Logger> open_logger(const LoggingConfig& config)
{
    try {
        return std::make_unique<Logger>(config);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "cannot start logging");
    }
}

/// The store that the configuration names. Its thread failing to start is reported as the store's.
std::shared_ptr<AddressStore> open_store(const StoreConfig& config, asio::io_context& io)
{
    try {
        return make_store(config, io);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "cannot start the store");
    }
}

/// The TLS context the configuration asks for, or null. Throws ConfigError naming an unusable file.
std::shared_ptr<TlsContext> open_tls(const std::optional<TlsConfig>& config)
{
    return config ? std::make_shared<TlsContext>(config->cert, config->key) : nullptr;
}

/// Reads the certificate and key again for new connections, and logs a RELOAD line; a file that cannot be
/// used is logged at ERROR and the certificate in use stays.
void reload_tls(TlsContext& tls, Logger& logger) noexcept
{
    try {
        LogFields fields;
        fields.add("message", "RELOAD").add("signal", "SIGHUP");
        try {
            tls.reload();
            fields.add("reloaded", "tls");
            logger.info(fields);
        } catch (const ConfigError& e) {
            fields.add("reloaded", "nothing").add("error", std::string(e.what()) + " (the certificate in use stays)");
            logger.log(LogLevel::error, fields);
        }
    } catch (...) {
        // Out of memory: the line is lost, the certificate in use stays.
    }
}

/// Opens the store, serves until SIGINT or SIGTERM and the drain that follows, and closes the store.
void serve_until_stopped(asio::io_context& io, const Config& config, Logger& logger)
{
    const auto tls = open_tls(config.tls);  // before the store: a bad file stops the start at once
    auto store = open_store(config.store, io);
    AddressService service(store, ServiceOptions{config.limits.max_body_bytes, config.limits.max_page});
    App app(service, logger, AppOptions{config.debug, config.limits.max_body_bytes, config.auth});
    Server server(io, app, logger, config.host, config.port, config.limits, config.workers > 1, tls);

    // SIGHUP reloads what can be reloaded (new connections get it; open ones keep theirs); nothing stops.
    asio::signal_set reload_signals(io, SIGHUP);
    std::function<void(const beast::error_code&, int)> on_reload = [&](const beast::error_code& ec, int) {
        if (ec) {
            return;
        }
        // Each step logs its own RELOAD line; without tls: or auth:, the app's says it reloaded nothing.
        if (tls) {
            reload_tls(*tls, logger);
        }
        if (config.auth || !tls) {
            app.reload("SIGHUP");  // the tokens file
        }
        reload_signals.async_wait(on_reload);
    };
    reload_signals.async_wait(on_reload);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    bool stopping = false;
    std::function<void(const beast::error_code&, int)> on_signal = [&](const beast::error_code& ec, int) {
        if (ec) {
            return;
        }
        // Listen on (before shutdown, which cancels the wait once drained): a later signal (systemd sends
        // one to every process of the service, and --workers' parent passes its own on) is taken and
        // changes nothing, as the drain ends by itself within its time.
        signals.async_wait(on_signal);
        if (stopping) {
            return;
        }
        stopping = true;
        LogFields fields;
        fields.add("message", "SHUTTING DOWN");
        logger.info(fields);
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
    if (tls) {
        starting.add("tls", "on");
    }
    if (config.workers > 1) {
        starting.add("pid", static_cast<std::int64_t>(::getpid()));
    }
    logger.info(starting);
    warn_if_unauthenticated(config, logger);

    server.start();
    // Once drained, nothing is left to do but wait for signals and keep the store's connections (a
    // database store's background work never runs out): stop the loop, and run() returns.
    server.on_drained([&signals, &reload_signals, &io] {
        signals.cancel();
        reload_signals.cancel();
        io.stop();
    });
    io.run();
    signals.clear();
    reload_signals.clear();
    ignore_signals({SIGHUP, SIGINT, SIGTERM});
}

}  // namespace

int run_service(const Config& config, Logger& logger)
{
    raise_open_file_limit();
    ignore_signals({SIGHUP});
    asio::io_context io(1);
    serve_until_stopped(io, config, logger);  // the store is closed when it returns
    LogFields stopped;
    stopped.add("message", "STOPPED");
    logger.info(stopped);
    return 0;
}

int main_entry(int argc, char** argv)
{
    // A console whose reader went away (a pipe to a log collector that restarted) must not end the
    // service: writes to it fail and are dropped instead. Sockets never raise SIGPIPE (MSG_NOSIGNAL).
    ignore_signals({SIGPIPE});
    const std::vector<std::string> args(argv, argv + argc);
    auto command_line = parse_command_line(args, process_env, std::cout, std::cerr);
    if (!command_line.config) {
        return command_line.exit_status;
    }
    const auto& config = *command_line.config;
    try {
        if (config.workers > 1) {
            open_tls(config.tls);  // a bad certificate or key stops the start here, not in every worker
            return run_workers(config);
        }
        const auto logger = open_logger(config.logging);
        return run_service(config, *logger);
    } catch (...) {
        return report_failure(std::current_exception(), config, std::cerr);
    }
}

}  // namespace addrservice::http
