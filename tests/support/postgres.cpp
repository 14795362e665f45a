#include "support/postgres.hpp"

#include "support/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace addrservice::testing {

namespace {

constexpr auto tool_timeout = std::chrono::seconds(120);

/// The newest installed server's programs (Debian: /usr/lib/postgresql/<major>/bin).
std::filesystem::path find_bin_dir()
{
    std::filesystem::path best;
    int best_major = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
        const auto name = entry.path().filename().string();
        const int major = std::atoi(name.c_str());
        if (major > best_major && std::filesystem::exists(entry.path() / "bin" / "initdb")) {
            best_major = major;
            best = entry.path() / "bin";
        }
    }
    if (best.empty()) {
        throw std::runtime_error(
            "postgres: no server installed under /usr/lib/postgresql (apt-get install postgresql-15)");
    }
    return best;
}

bool running_as_root()
{
    return ::geteuid() == 0;
}

/// The command line that runs args as the postgres user when we are root (the server refuses root).
std::vector<std::string> as_server_user(std::vector<std::string> args)
{
    if (running_as_root()) {
        args.insert(args.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    }
    return args;
}

/// Runs a command to its end in cwd (a directory the server user may enter); throws with its output
/// when it fails.
void run_tool(std::vector<std::string> args, const std::filesystem::path& cwd)
{
    args = as_server_user(std::move(args));
    const std::string binary = args.front();
    Process process(binary, std::vector<std::string>(args.begin() + 1, args.end()), {}, cwd.string());
    const auto status = process.wait_exit(tool_timeout);
    if (status != 0) {
        std::string command;
        for (const auto& arg : args) {
            command += arg + " ";
        }
        throw std::runtime_error("postgres: '" + command + "' failed (" +
                                 (status ? std::to_string(*status) : std::string("timed out")) + "):\n" +
                                 process.output());
    }
}

std::uint16_t free_loopback_port()
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

std::string quoted(const std::filesystem::path& path)
{
    return "'" + path.string() + "'";
}

}  // namespace

PostgresServer::PostgresServer() : bin_(find_bin_dir())
{
    std::string pattern = (std::filesystem::temp_directory_path() / "addrservice-pg-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("postgres: cannot make a temporary directory");
    }
    directory_ = pattern;
    if (running_as_root()) {
        const passwd* user = ::getpwnam("postgres");
        if (user == nullptr || ::chown(directory_.c_str(), user->pw_uid, user->pw_gid) != 0) {
            std::filesystem::remove_all(directory_);
            throw std::runtime_error("postgres: no 'postgres' user to run the server as");
        }
    }
    start_watchdog();
    run_tool({(bin_ / "initdb").string(), "-D", (directory_ / "data").string(), "-U", "postgres", "-E", "UTF8",
              "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"},
             directory_);
    // TLS as on a packaged server (libpq prefers it): a throwaway certificate of the server's own.
    const auto data = directory_ / "data";
    run_tool({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-subj", "/CN=localhost", "-days", "7", "-keyout", (data / "server.key").string(), "-out",
              (data / "server.crt").string()},
             directory_);
    run_tool({"/bin/chmod", "600", (data / "server.key").string()}, directory_);
    start_on_free_port();
    execute("postgres", std::string("CREATE ROLE ") + role + " LOGIN PASSWORD '" + password + "'");
}

PostgresServer::~PostgresServer()
{
    try {
        if (running_) {
            run_tool(
                {(bin_ / "pg_ctl").string(), "-D", (directory_ / "data").string(), "-m", "immediate", "-w", "stop"},
                directory_);
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
    }
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
    // The watchdog sees its input end, finds nothing left to do, and exits.
    ::close(watchdog_fd_);
    int status = 0;
    ::waitpid(watchdog_pid_, &status, 0);
}

void PostgresServer::start_watchdog()
{
    // If this process dies without its destructor (a crash, SIGKILL), the pipe's write end closes with
    // it: the watchdog then stops the server and removes its directory.
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error("postgres: pipe2 failed");
    }
    std::string stop_command;
    for (const auto& arg : as_server_user(
             {(bin_ / "pg_ctl").string(), "-D", (directory_ / "data").string(), "-m", "immediate", "-w", "stop"})) {
        stop_command += "'" + arg + "' ";
    }
    const std::string script = "cat >/dev/null; " + stop_command + ">/dev/null 2>&1; rm -rf " + quoted(directory_);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        ::dup2(fds[0], STDIN_FILENO);
        ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fds[0]);
    if (pid < 0) {
        ::close(fds[1]);
        throw std::runtime_error("postgres: fork failed");
    }
    watchdog_pid_ = pid;
    watchdog_fd_ = fds[1];
}

void PostgresServer::start_on_free_port()
{
    // A port found free may be taken before the server binds it: try a few.
    for (int attempt = 1;; ++attempt) {
        port_ = free_loopback_port();
        try {
            start();
            return;
        } catch (const std::runtime_error&) {
            if (attempt == 5) {
                throw;
            }
        }
    }
}

void PostgresServer::start()
{
    const auto options = "-p " + std::to_string(port_) + " -k " + directory_.string() +
                         " -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off -c full_page_writes=off";
    run_tool({(bin_ / "pg_ctl").string(), "-D", (directory_ / "data").string(), "-l",
              (directory_ / "server.log").string(), "-w", "-t", "60", "-o", options, "start"},
             directory_);
    running_ = true;
}

void PostgresServer::stop()
{
    run_tool({(bin_ / "pg_ctl").string(), "-D", (directory_ / "data").string(), "-m", "fast", "-w", "stop"},
             directory_);
    running_ = false;
}

std::string PostgresServer::create_database()
{
    const auto name = "book_" + std::to_string(++databases_);
    execute("postgres", "CREATE DATABASE " + name + " OWNER " + role);
    return name;
}

std::string PostgresServer::url(const std::string& database) const
{
    return std::string("postgresql://") + role + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" +
           database;
}

std::string PostgresServer::url_without_password(const std::string& database) const
{
    return std::string("postgresql://") + role + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::execute(const std::string& database, const std::string& sql) const
{
    const auto port = std::to_string(port_);
    const std::array<const char*, 5> keywords{"host", "port", "user", "dbname", nullptr};
    const std::array<const char*, 5> values{directory_.c_str(), port.c_str(), "postgres", database.c_str(), nullptr};
    const std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keywords.data(), values.data(), 0),
                                                            &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(std::string("postgres: cannot connect: ") + PQerrorMessage(conn.get()));
    }
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error("postgres: " + sql + ": " + PQresultErrorMessage(result.get()));
    }
    if (status == PGRES_TUPLES_OK && PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0) {
        return PQgetvalue(result.get(), 0, 0);
    }
    return {};
}

namespace {

/// Owns the binary's one server: made on first use, stopped after the last test however the tests went.
class PostgresEnvironment final : public ::testing::Environment {
public:
    void TearDown() override { server_.reset(); }

    PostgresServer& server()
    {
        if (!server_) {
            server_ = std::make_unique<PostgresServer>();
        }
        return *server_;
    }

private:
    std::unique_ptr<PostgresServer> server_;
};

// Registered when this file is linked in, that is, in the binaries whose tests use a server.
auto* const environment = dynamic_cast<PostgresEnvironment*>(  // NOLINT(cert-err58-cpp)
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment));

}  // namespace

PostgresServer& postgres()
{
    return environment->server();
}

}  // namespace addrservice::testing
