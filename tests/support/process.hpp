#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice::testing {

/// A child process with its stdout and stderr captured together, for end-to-end tests.
class Process {
public:
    /// Starts program with args; env entries ("NAME=value") are added to this process's environment.
    Process(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
            const std::string& cwd = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process(Process&&) = delete;
    Process& operator=(Process&&) = delete;

    /// Reads output until a line containing needle arrives; returns that line, or nullopt on timeout or exit.
    std::optional<std::string> wait_for_line(std::string_view needle,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(20));
    /// Sends a signal.
    void signal(int signal_number) const;
    /// Waits for exit; returns the exit status (128 + signal when killed), or nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    /// Closes this end of the output pipe, as a reader that went away does: what the process writes to
    /// stdout or stderr from then on fails (EPIPE).
    void close_output();
    /// Everything the process printed so far.
    [[nodiscard]] const std::string& output() const noexcept { return output_; }
    [[nodiscard]] int pid() const noexcept { return pid_; }

private:
    bool read_some(int timeout_ms);

    int pid_ = -1;
    int pidfd_ = -1;
    int out_fd_ = -1;
    bool eof_ = false;
    std::optional<int> status_;
    std::string output_;
    std::size_t scanned_ = 0;  // output_ before this offset has been searched for lines
};

/// Reads the port from a STARTING log line ("... port=8080 ..." or JSON); 0 when absent.
std::uint16_t port_from_log_line(std::string_view line);

}  // namespace addrservice::testing
