#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace addrservice::testing {

/// A PostgreSQL server of the tests' own: initdb into a temporary directory (as the unprivileged
/// `postgres` user when the tests run as root: initdb refuses root), pg_ctl start on a free loopback port
/// and on a unix socket in that directory. Stopped (immediate) and removed when destroyed, and by a
/// watchdog process if this process dies first. TCP connections need a password (and use TLS unless the
/// client declines it: sslmode=disable); the socket trusts.
class PostgresServer {
public:
    PostgresServer();  // throws std::runtime_error with the tools' output
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;
    PostgresServer(PostgresServer&&) = delete;
    PostgresServer& operator=(PostgresServer&&) = delete;

    /// The role that owns the test databases (not a superuser), and its password.
    static constexpr const char* role = "addrbook";
    static constexpr const char* password = "Pa55-word-for-tests";

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] const std::filesystem::path& directory() const noexcept { return directory_; }

    /// A new empty database owned by role; returns its name.
    std::string create_database();
    /// A URI for database over TCP, as role with its password.
    [[nodiscard]] std::string url(const std::string& database) const;
    /// The same without the password (for PGPASSWORD or .pgpass).
    [[nodiscard]] std::string url_without_password(const std::string& database) const;

    /// Runs SQL as the superuser over the socket (blocking; tests only); returns the first value of the
    /// first row, or "" when there is none. Throws std::runtime_error on an error.
    std::string execute(const std::string& database, const std::string& sql) const;

    /// Stops the server (fast: connections are closed) and starts it again on the same port.
    void stop();
    void start();

private:
    void start_on_free_port();
    void start_watchdog();

    std::filesystem::path directory_;
    std::filesystem::path bin_;
    std::uint16_t port_ = 0;
    bool running_ = false;
    int databases_ = 0;
    int watchdog_pid_ = -1;
    int watchdog_fd_ = -1;
};

/// The test binary's one server: started on first use, stopped when the tests end (a GoogleTest
/// environment), whether they pass or fail.
PostgresServer& postgres();

}  // namespace addrservice::testing
