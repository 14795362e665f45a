#include "addrservice/store/store_factory.hpp"
#include "server/server.hpp"
#include "server/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

namespace addrservice::http {

namespace {

/// A socket bound (not listening) to host:port with SO_REUSEPORT: it holds the port, and with port 0
/// picks it, for the workers that then listen on it. It never accepts, so no connection reaches it.
class PortReservation {
public:
    PortReservation(const std::string& host, std::uint16_t port)
    {
        const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(host), port);
        fd_ = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int on = 1;
        if (fd_ < 0 || ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
            ::bind(fd_, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
            const int error = errno;
            close();
            throw ListenError(error, std::generic_category(), "bind");
        }
        boost::asio::ip::tcp::endpoint bound;
        auto size = static_cast<socklen_t>(bound.capacity());
        ::getsockname(fd_, bound.data(), &size);
        port_ = bound.port();
    }
    ~PortReservation() { close(); }
    PortReservation(const PortReservation&) = delete;
    PortReservation& operator=(const PortReservation&) = delete;
    PortReservation(PortReservation&&) = delete;
    PortReservation& operator=(PortReservation&&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    void close() noexcept
    {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// How a worker ended, as waitpid told it: "exited with status 1", "was killed by signal 9 (Killed)".
std::string how_it_ended(int status)
{
    if (WIFSIGNALED(status)) {
        const int signal_number = WTERMSIG(status);
        const char* name = ::strsignal(signal_number);
        return "was killed by signal " + std::to_string(signal_number) + (name ? " (" + std::string(name) + ")" : "");
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

/// The body of one worker process: its own logger, store and event loop.
[[noreturn]] void run_worker(const Config& config, const sigset_t& original_mask)
{
    // Stop with the parent, whatever way it goes; only the parent takes terminal signals. A SIGHUP passed
    // on before the worker listens for it is ignored rather than fatal.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::setpgid(0, 0);
    static_cast<void>(std::signal(SIGHUP, SIG_IGN));
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    int status = 1;
    try {
        Logger logger(config.logging);
        status = run_service(config, logger);
    } catch (const std::exception& e) {
        std::cerr << "addrservice: worker " << ::getpid() << ": " << e.what() << '\n';
    }
    std::_Exit(status);
}

}  // namespace

int run_workers(const Config& config)
{
    // A store that cannot be opened is reported once, here, rather than by every worker. (Closed again
    // before forking: each worker opens its own connection.)
    {
        boost::asio::io_context io;
        make_store(config.store, io).reset();
    }
    const PortReservation reservation(config.host, config.port);
    Config worker_config = config;
    worker_config.port = reservation.port();

    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGHUP);
    sigaddset(&handled, SIGCHLD);
    sigset_t original;
    ::sigprocmask(SIG_BLOCK, &handled, &original);

    std::vector<pid_t> workers;
    bool stopping = false;
    bool failed = false;
    auto signal_all = [&workers](int signal_number) {
        for (const auto pid : workers) {
            ::kill(pid, signal_number);
            if (signal_number == SIGTERM) {
                ::kill(pid, SIGCONT);  // a stopped worker (SIGSTOP, a debugger let go) drains too, not never
            }
        }
    };
    for (unsigned i = 0; i < config.workers; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            run_worker(worker_config, original);
        }
        if (pid < 0) {
            std::cerr << "addrservice: cannot start worker: " << std::generic_category().message(errno) << '\n';
            failed = stopping = true;
            signal_all(SIGTERM);
            break;
        }
        workers.push_back(pid);
    }

    while (!workers.empty()) {
        int signal_number = 0;
        ::sigwait(&handled, &signal_number);
        if (signal_number == SIGCHLD) {
            int status = 0;
            pid_t pid = 0;
            while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
                std::erase(workers, pid);
                const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                if (!clean || !stopping) {
                    std::cerr << "addrservice: worker " << pid << ' ' << how_it_ended(status)
                              << (stopping ? "" : "; stopping the others") << '\n';
                    // A worker that dies on its own takes the others down: a half-running service hides faults.
                    failed = failed || !clean || !stopping;
                    if (!stopping) {
                        stopping = true;
                        signal_all(SIGTERM);
                    }
                }
            }
        } else if (signal_number == SIGHUP) {
            // A reload is each worker's to do (each logs it); the parent has nothing to reload.
            signal_all(SIGHUP);
        } else {
            // Each signal is passed on: the first drains the workers, later ones change nothing.
            stopping = true;
            signal_all(SIGTERM);
        }
    }
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    return failed ? 1 : 0;
}

}  // namespace addrservice::http
