#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>

extern char** environ;  // NOLINT

namespace addrservice::testing {

namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

Process::Process(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env,
                 const std::string& cwd)
{
    std::array<int, 2> pipe_fds{};
    if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e) {  // NOLINT
        env_storage.emplace_back(*e);
    }
    env_storage.insert(env_storage.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& entry : env_storage) {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
            ::_exit(127);
        }
        ::execve(program.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    out_fd_ = pipe_fds[0];
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

Process::~Process()
{
    if (!status_) {
        ::kill(pid_, SIGKILL);
        wait_exit(std::chrono::seconds(10));
    }
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    if (out_fd_ >= 0) {
        ::close(out_fd_);
    }
}

void Process::close_output()
{
    if (out_fd_ >= 0) {
        ::close(out_fd_);
        out_fd_ = -1;
    }
    eof_ = true;
}

bool Process::read_some(int timeout_ms)
{
    if (eof_) {
        return false;
    }
    pollfd pfd{out_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) {
        return false;
    }
    std::array<char, 4096> chunk{};
    const auto n = ::read(out_fd_, chunk.data(), chunk.size());
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    output_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
}

std::optional<std::string> Process::wait_for_line(std::string_view needle, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        while (scanned_ < output_.size()) {
            const auto end = output_.find('\n', scanned_);
            if (end == std::string::npos) {
                break;
            }
            std::string line = output_.substr(scanned_, end - scanned_);
            scanned_ = end + 1;
            if (line.find(needle) != std::string::npos) {
                return line;
            }
        }
        if (eof_ || remaining_ms(deadline) == 0) {
            return std::nullopt;
        }
        read_some(remaining_ms(deadline));
    }
}

void Process::signal(int signal_number) const
{
    ::kill(pid_, signal_number);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout)
{
    if (status_) {
        return status_;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            while (read_some(0)) {
            }
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return status_;
        }
        if (remaining_ms(deadline) == 0) {
            return std::nullopt;
        }
        // Wait for the exit itself (pidfd) or for output to drain, whichever comes first.
        std::array<pollfd, 2> fds{pollfd{pidfd_, POLLIN, 0}, pollfd{eof_ ? -1 : out_fd_, POLLIN, 0}};
        ::poll(fds.data(), fds.size(), remaining_ms(deadline));
        if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
            read_some(0);
        }
    }
}

std::uint16_t port_from_log_line(std::string_view line)
{
    // logfmt (port=8080) or JSON ("port":8080)
    auto at = line.find(" port=");
    std::size_t skip = 6;
    if (at == std::string_view::npos) {
        at = line.find("\"port\":");
        skip = 7;
    }
    if (at == std::string_view::npos) {
        return 0;
    }
    const auto digits = line.substr(at + skip);
    unsigned value = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return static_cast<std::uint16_t>(value);
}

}  // namespace addrservice::testing
