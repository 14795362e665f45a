// The built binary as a user runs it: flags, the log, signals, exit statuses, the README's session.
#include "e2e/readme_session.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/samples.hpp"
#include "support/tls_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using nlohmann::json;

/// A scratch directory for one test, removed afterwards.
class ScratchDir {
public:
    ScratchDir()
        : path_(std::filesystem::temp_directory_path() /
                ("addrservice-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)))
    {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() { std::filesystem::remove_all(path_); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ScratchDir(ScratchDir&&) = delete;
    ScratchDir& operator=(ScratchDir&&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

/// The binary on a free loopback port, with its port read from the STARTING line. It runs in a scratch
/// directory of its own, where the default store (./var/addressbook.db) starts empty.
class RunningService {
public:
    explicit RunningService(std::vector<std::string> args = {})
        : process_(binary, with_defaults(std::move(args)), {}, cwd_.path().string())
    {
        const auto line = process_.wait_for_line("STARTING\"");
        if (line) {
            port_ = port_from_log_line(*line);
        }
    }

    [[nodiscard]] std::uint16_t port() const { return port_; }
    Process& process() { return process_; }

private:
    static std::vector<std::string> with_defaults(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"--port", "0", "--host", "127.0.0.1"});
        return args;
    }

    ScratchDir cwd_;
    Process process_;
    std::uint16_t port_ = 0;
};

TEST(Binary, ServesOnAFreePortAndStopsCleanlyOnSigterm)
{
    RunningService service;
    ASSERT_NE(service.port(), 0) << service.process().output();
    {
        HttpClient client(service.port());
        const auto response = client.get("/anything");
        EXPECT_EQ(response.result(), status::not_found);
        EXPECT_EQ(json::parse(response.body())["message"], "Unknown Endpoint");
    }
    service.process().signal(SIGTERM);
    EXPECT_EQ(service.process().wait_exit(), 0);
    const auto& output = service.process().output();
    EXPECT_NE(output.find(R"(message="RESPONSE" status=404)"), std::string::npos) << output;
    const auto shutting = output.find(R"(message="SHUTTING DOWN")");
    const auto stopped = output.find(R"(message="STOPPED")");
    EXPECT_NE(shutting, std::string::npos) << output;
    EXPECT_NE(stopped, std::string::npos) << output;
    EXPECT_LT(shutting, stopped);
}

TEST(Binary, SigintAlsoStopsCleanlyWithAnIdleClientConnected)
{
    RunningService service;
    ASSERT_NE(service.port(), 0) << service.process().output();
    HttpClient idle(service.port());
    EXPECT_EQ(idle.get("/livez").result(), status::ok);
    service.process().signal(SIGINT);
    EXPECT_EQ(service.process().wait_exit(), 0);
    EXPECT_TRUE(idle.closed_by_peer());
}

TEST(Binary, AConsoleWhoseReaderWentAwayDoesNotStopTheService)
{
    RunningService service({"--debug"});  // a line or two on the console for every request
    ASSERT_NE(service.port(), 0) << service.process().output();
    service.process().close_output();
    HttpClient client(service.port());
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(client.get("/livez").result(), status::ok) << i;  // every line written meets EPIPE
    }
    service.process().signal(SIGTERM);
    EXPECT_EQ(service.process().wait_exit(), 0);
}

/// Whether the process has no signal waiting to be taken (it was delivered to its handler).
bool no_signal_pending(int pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    int pending_lines = 0;
    while (std::getline(status, line)) {
        if (line.starts_with("SigPnd:") || line.starts_with("ShdPnd:")) {
            if (line.find_first_not_of("0", line.find_first_not_of(" \t", 7)) != std::string::npos) {
                return false;
            }
            ++pending_lines;
        }
    }
    return pending_lines == 2;
}

TEST(Binary, ALaterStopSignalLetsTheRequestInFlightFinish)
{
    // systemd sends SIGTERM to every process of the service, and --workers' parent passes its own on:
    // a worker can see two. Neither may cut short a request whose headers arrived.
    RunningService service;
    ASSERT_NE(service.port(), 0) << service.process().output();
    HttpClient in_flight(service.port());
    const std::string body = R"({"full_name": "Ottilie Brandvold"})";
    in_flight.write_raw("POST /addresses HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));
    {
        HttpClient other(service.port());  // answered after the first connection's headers were read
        ASSERT_EQ(other.get("/livez").result(), status::ok);
    }
    service.process().signal(SIGTERM);
    ASSERT_TRUE(service.process().wait_for_line("SHUTTING DOWN")) << service.process().output();
    for (const int signal_number : {SIGTERM, SIGINT}) {
        service.process().signal(signal_number);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!no_signal_pending(service.process().pid()) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    }
    in_flight.write_raw(body.substr(10));
    EXPECT_EQ(in_flight.read_response().result(), status::created);
    EXPECT_EQ(service.process().wait_exit(), 0);
    const auto& output = service.process().output();
    EXPECT_NE(output.find(R"(method="POST" uri="/addresses" ip="127.0.0.1" message="RESPONSE" status=201)"),
              std::string::npos)
        << output;
    EXPECT_NE(output.find(R"(message="STOPPED")"), std::string::npos) << output;
}

TEST(Binary, SighupIsLoggedAndServingGoesOnUntilSigterm)
{
    RunningService service;
    ASSERT_NE(service.port(), 0) << service.process().output();
    HttpClient client(service.port());
    EXPECT_EQ(client.request(verb::get, "/livez", {}, {{"X-Request-ID", "before-hup"}}).result(), status::ok);
    service.process().signal(SIGHUP);
    const auto reload = service.process().wait_for_line(R"(message="RELOAD")");
    ASSERT_TRUE(reload) << service.process().output();
    EXPECT_NE(reload->find(R"(INFO : message="RELOAD" signal="SIGHUP")"), std::string::npos) << *reload;
    EXPECT_EQ(client.request(verb::get, "/livez", {}, {{"X-Request-ID", "after-hup"}}).result(), status::ok);
    service.process().signal(SIGTERM);
    EXPECT_EQ(service.process().wait_exit(), 0);
    const auto& output = service.process().output();
    for (const char* line : {R"(req_id="before-hup")", R"(req_id="after-hup")", R"(message="STOPPED")"}) {
        EXPECT_NE(output.find(line), std::string::npos) << line << "\n" << output;
    }
}

/// What a command prints on stdout.
std::string output_of(const std::string& command)
{
    std::string out;
    const std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
    std::array<char, 4096> chunk{};
    while (pipe && std::fgets(chunk.data(), static_cast<int>(chunk.size()), pipe.get()) != nullptr) {
        out += chunk.data();
    }
    return out;
}

TEST(BinaryTls, ServesHttpsAndSighupReloadsTheCertificateForNewConnectionsOnly)
{
    const SelfSignedCertificate first("first.addrservice.example");
    const SelfSignedCertificate second("second.addrservice.example");
    const ScratchDir served;
    const auto cert = served.path() / "cert.pem";
    const auto key = served.path() / "key.pem";
    std::filesystem::copy_file(first.cert(), cert);
    std::filesystem::copy_file(first.key(), key);
    RunningService service({"--tls-cert", cert.string(), "--tls-key", key.string()});
    ASSERT_NE(service.port(), 0) << service.process().output();
    EXPECT_NE(service.process().output().find(R"( tls="on")"), std::string::npos) << service.process().output();

    const auto url = "https://127.0.0.1:" + std::to_string(service.port()) + "/livez";
    EXPECT_EQ(output_of("curl -s --cacert " + first.cert().string() + " " + url), R"({"status":"ok"})");
    TlsClient before(service.port(), first.cert());
    EXPECT_EQ(before.peer_common_name(), "first.addrservice.example");
    EXPECT_EQ(before.get("/livez").result(), status::ok);

    std::filesystem::copy_file(second.cert(), cert, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(second.key(), key, std::filesystem::copy_options::overwrite_existing);
    service.process().signal(SIGHUP);
    const auto reload = service.process().wait_for_line(R"(message="RELOAD")");
    ASSERT_TRUE(reload) << service.process().output();
    EXPECT_NE(reload->find(R"(reloaded="tls")"), std::string::npos) << *reload;

    TlsClient after(service.port(), second.cert());
    EXPECT_EQ(after.peer_common_name(), "second.addrservice.example");
    EXPECT_EQ(after.get("/livez").result(), status::ok);
    EXPECT_EQ(output_of("curl -s --cacert " + second.cert().string() + " " + url), R"({"status":"ok"})");
    EXPECT_EQ(before.get("/livez").result(), status::ok);  // the open connection goes on as it was

    service.process().signal(SIGTERM);
    EXPECT_EQ(service.process().wait_exit(), 0);
}

TEST(BinaryTls, AnUnusableCertificateOrKeyIsOneLineNamingTheFileAndExitTwo)
{
    const SelfSignedCertificate first("first.addrservice.example");
    const SelfSignedCertificate second("second.addrservice.example");
    const auto missing = (first.directory() / "missing.pem").string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--tls-cert", missing, "--tls-key", first.key().string()},
         "addrservice: config: tls.cert: cannot read '" + missing + "': No such file or directory\n"},
        {{"--tls-cert", first.cert().string(), "--tls-key", second.key().string()},
         "addrservice: config: tls.key: '" + second.key().string() + "' does not match the certificate in '" +
             first.cert().string() + "'\n"},
        {{"--tls-cert", first.cert().string()},
         "addrservice: --tls-cert and --tls-key go together: give both, or neither (see --help)\n"},
    };
    for (const auto& [args, expected] : cases) {
        auto with_port = args;
        with_port.insert(with_port.end(), {"--host", "127.0.0.1", "--port", "0"});
        Process process(binary, with_port);
        EXPECT_EQ(process.wait_exit(), 2) << process.output();
        EXPECT_TRUE(process.output().starts_with(expected)) << process.output();
    }
}

TEST(Binary, StartingLineNamesServicePortAndStore)
{
    RunningService service;
    const auto& output = service.process().output();
    EXPECT_TRUE(std::regex_search(
        output,
        std::regex(
            R"(INFO : message="STARTING" service_name="Address Book" .*port=\d+ db="sqlite:./var/addressbook.db")")))
        << output;
}

TEST(Binary, BadFlagIsOneLineOnStderrAndExitTwo)
{
    Process process(binary, {"--prot", "8080"});
    EXPECT_EQ(process.wait_exit(), 2);
    const auto first_line = process.output().substr(0, process.output().find('\n'));
    EXPECT_TRUE(first_line.starts_with("addrservice: ")) << process.output();
    EXPECT_NE(first_line.find("--prot"), std::string::npos) << process.output();
}

TEST(Binary, PortInUseIsOneLineAndExitOne)
{
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = taken.local_endpoint().port();
    Process process(binary, {"--host", "127.0.0.1", "--port", std::to_string(port)});
    EXPECT_EQ(process.wait_exit(), 1);
    EXPECT_EQ(process.output(),
              "addrservice: cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use\n");
}

TEST(Binary, VersionAndHelpExitZero)
{
    Process version(binary, {"--version"});
    EXPECT_EQ(version.wait_exit(), 0);
    EXPECT_TRUE(std::regex_match(version.output(), std::regex(R"(addrservice \d+\.\d+\.\d+\n)"))) << version.output();
    Process help(binary, {"--help"});
    EXPECT_EQ(help.wait_exit(), 0);
    EXPECT_NE(help.output().find("--port"), std::string::npos);
}

TEST(Binary, TheReadmeCurlSessionRunsAsWritten)
{
    const auto steps = session_steps("<!-- curl-session -->");
    ASSERT_GE(steps.size(), 8U);

    RunningService service;
    ASSERT_NE(service.port(), 0) << service.process().output();
    // One shell runs every command in turn (so LOC carries over), with a marker between outputs.
    // stderr is dropped: curl prints a progress meter there when its output is not a terminal.
    std::string script = "set +e\nexec 2>/dev/null\n";
    for (const auto& [command, expected] : steps) {
        script +=
            std::regex_replace(command, std::regex("localhost:8080"), "localhost:" + std::to_string(service.port())) +
            "\necho '@@step-end@@'\n";
    }
    const auto script_path = std::filesystem::temp_directory_path() / ("curl-session-" + std::to_string(::getpid()));
    std::ofstream(script_path) << script;
    Process shell("/bin/bash", {script_path.string()}, {}, source_dir().string());
    ASSERT_EQ(shell.wait_exit(std::chrono::seconds(60)), 0) << shell.output();
    std::filesystem::remove(script_path);

    std::vector<std::string> outputs;
    std::string rest = shell.output();
    for (auto marker = rest.find("@@step-end@@\n"); marker != std::string::npos; marker = rest.find("@@step-end@@\n")) {
        outputs.push_back(rest.substr(0, marker));
        rest = rest.substr(marker + 13);
    }
    ASSERT_EQ(outputs.size(), steps.size()) << shell.output();
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto port_text = "localhost:" + std::to_string(service.port());
        const auto actual = std::regex_replace(outputs[i], std::regex(port_text), "localhost:8080");
        EXPECT_EQ(comparable_lines(actual), comparable_lines(steps[i].second)) << "$ " << steps[i].first;
    }
}

TEST(Binary, HundredConcurrentClientsTwoThousandRequestsNothingLost)
{
    RunningService service;
    ASSERT_NE(service.port(), 0) << service.process().output();
    constexpr int clients = 100;
    constexpr int rounds = 4;  // 5 requests a round: 100 x 4 x 5 = 2,000 requests
    std::atomic<int> failures{0};
    std::atomic<int> answered{0};
    std::vector<std::vector<std::string>> kept(clients);
    const auto entry = read_file(source_dir() / "data" / "addresses" / "marguerite-okonkwo-lindqvist.json");
    const auto other = read_file(source_dir() / "data" / "addresses" / "tobias-renwick-adeyemi.json");
    {
        std::vector<std::jthread> threads;
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, c] {
                try {
                    HttpClient client(service.port());
                    auto check = [&](bool ok) {
                        answered += 1;
                        failures += ok ? 0 : 1;
                    };
                    for (int r = 0; r < rounds; ++r) {
                        auto created = client.request(verb::post, "/addresses", entry);
                        check(created.result() == status::created);
                        const std::string location(created[field::location]);
                        check(json::parse(client.get(location).body()) == json::parse(entry));
                        check(client.request(verb::put, location, other).result() == status::no_content);
                        check(json::parse(client.get(location).body()) == json::parse(other));
                        if (r % 2 == 0) {
                            check(client.request(verb::delete_, location).result() == status::no_content);
                        } else {
                            check(client.get("/nope").result() == status::not_found);
                            kept[static_cast<std::size_t>(c)].push_back(location.substr(11));
                        }
                    }
                } catch (const std::exception& e) {
                    failures += 1000;
                }
            });
        }
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(answered.load(), 2000);
    HttpClient client(service.port());
    const auto list = json::parse(client.get("/addresses").body());
    std::size_t expected = 0;
    for (const auto& ids : kept) {
        for (const auto& id : ids) {
            ++expected;
            EXPECT_EQ(list.at(id), json::parse(other));
        }
    }
    EXPECT_EQ(list.size(), expected);
    EXPECT_EQ(expected, static_cast<std::size_t>(clients * rounds / 2));
}

TEST(BinaryConfig, ConfigFileLogsToAFileFromStartingToStopped)
{
    const ScratchDir dir;
    const auto log_file = dir.path() / "logs" / "service.log";  // the directory is created
    std::ofstream(dir.path() / "service.yaml") << "service: {name: Carnet Test}\n"
                                                  "logging:\n  console: brief\n  file: "
                                               << log_file.string() << "\n";
    Process process(binary, {"--config", (dir.path() / "service.yaml").string(), "--host", "127.0.0.1", "--port", "0"});
    const auto starting = process.wait_for_line("message=\"STARTING\"");
    ASSERT_TRUE(starting) << process.output();
    const auto port = port_from_log_line(*starting);
    {
        HttpClient client(port);
        EXPECT_EQ(client.request(verb::get, "/addresses", {}, {{"X-Request-ID", "e2e-file-1"}}).result(), status::ok);
    }
    process.signal(SIGTERM);
    EXPECT_EQ(process.wait_exit(), 0);
    const auto text = read_file(log_file);
    const std::regex order(
        R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} addrservice INFO : message="STARTING" service_name="Carnet Test" [^\n]*\n)"
        R"([^\n]*addrservice INFO : req_id="e2e-file-1" method="GET" uri="/addresses" ip="127.0.0.1" message="RESPONSE" status=200 time_ms=[0-9.]+\n)"
        R"([^\n]*addrservice INFO : message="SHUTTING DOWN"\n)"
        R"([^\n]*addrservice INFO : message="STOPPED"\n)");
    EXPECT_TRUE(std::regex_match(text, order)) << text;
}

TEST(BinaryConfig, JsonConsolePrintsOneObjectPerLine)
{
    const ScratchDir dir;
    std::ofstream(dir.path() / "json.yaml") << "logging: {console: json}\n";
    RunningService service({"--config", (dir.path() / "json.yaml").string()});
    ASSERT_NE(service.port(), 0) << service.process().output();
    {
        HttpClient client(service.port());
        client.get("/nope");
    }
    service.process().signal(SIGTERM);
    EXPECT_EQ(service.process().wait_exit(), 0);
    std::istringstream lines(service.process().output());
    std::string line;
    std::vector<std::string> messages;
    while (std::getline(lines, line)) {
        const auto object = json::parse(line);
        messages.push_back(object.at("message").get<std::string>());
        if (messages.back() == "RESPONSE") {
            EXPECT_EQ(object.at("status"), 404);
            EXPECT_EQ(object.at("level"), "WARNING");
            EXPECT_EQ(object.at("uri"), "/nope");
        }
    }
    EXPECT_EQ(messages, (std::vector<std::string>{"STARTING", "RESPONSE", "SHUTTING DOWN", "STOPPED"}));
}

TEST(BinaryConfig, EnvironmentConfiguresAndFlagsWin)
{
    Process process(binary, {"--port", "0"},
                    {"ADDRSERVICE_HOST=127.0.0.1", "ADDRSERVICE_PORT=1", "ADDRSERVICE_DEBUG=true"});
    const auto line = process.wait_for_line("message=\"STARTING\"");
    ASSERT_TRUE(line) << process.output();
    EXPECT_NE(line->find("host=\"127.0.0.1\""), std::string::npos);
    const auto port = port_from_log_line(*line);
    EXPECT_NE(port, 1);
    {
        HttpClient client(port);
        const auto response = client.get("/nope");
        EXPECT_EQ(response.result(), status::not_found);
    }
    // --debug through the environment: REQUEST lines at DEBUG.
    EXPECT_TRUE(process.wait_for_line("DEBUG : req_id="));
    process.signal(SIGTERM);
    EXPECT_EQ(process.wait_exit(), 0);
}

TEST(BinaryConfig, InvalidConfigIsOneLineAndExitTwo)
{
    const ScratchDir dir;
    std::ofstream(dir.path() / "bad.yaml") << "addr-db:\n  memory: null\n  sqlite: ./x.db\n";
    Process process(binary, {"--config", (dir.path() / "bad.yaml").string()});
    EXPECT_EQ(process.wait_exit(), 2);
    EXPECT_EQ(process.output(), "addrservice: config: addr-db: expected exactly one of memory|fs|sqlite|postgres\n");
    std::ofstream(dir.path() / "memory.yaml") << "addr-db: {memory: null}\n";
    Process workers(binary, {"--workers", "2", "--config", (dir.path() / "memory.yaml").string()});
    EXPECT_EQ(workers.wait_exit(), 2);
    EXPECT_NE(workers.output().find("--workers 2: needs a store that processes can share"), std::string::npos);
    Process env(binary, {}, {"ADDRSERVICE_DEBUG=perhaps"});
    EXPECT_EQ(env.wait_exit(), 2);
    EXPECT_TRUE(env.output().starts_with("addrservice: ADDRSERVICE_DEBUG: expected 1|true|yes|0|false|no"));
}

TEST(BinaryConfig, AConfigThatCannotBeTakenAtItsWordIsOneLineAndExitTwo)
{
    const ScratchDir dir;
    std::filesystem::create_directories(dir.path() / "conf.d");
    std::ofstream(dir.path() / "duplicate.yaml") << "addr-db: {memory: null}\nlogging: {level: info}\n"
                                                 << "addr-db: {fs: ./var/addresses}\n";
    std::ofstream(dir.path() / "nul.yaml", std::ios::binary) << std::string("service: {name: A}\0\n", 20);
    const std::map<std::string, std::string> expected{
        {"conf.d", "addrservice: config: cannot read 'conf.d': is a directory\n"},
        {"/dev/zero", "addrservice: config: cannot read '/dev/zero': larger than 1 MiB (1048576 bytes)\n"},
        {"duplicate.yaml", "addrservice: config: addr-db: duplicate key at 3:1 (first at 1:1)\n"},
        {"nul.yaml", "addrservice: config: nul.yaml:1:19: a NUL byte (a config file is UTF-8 text)\n"},
    };
    for (const auto& [config, message] : expected) {
        // Were the config taken as valid, the service would start here, on a free port.
        Process process(binary, {"--config", config, "--port", "0", "--host", "127.0.0.1"}, {}, dir.path().string());
        EXPECT_EQ(process.wait_exit(), 2) << config;
        EXPECT_EQ(process.output(), message);
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "var"));  // no store was opened
}

/// The binary run again and again in one working directory: on the default sqlite store, or on the
/// store a config file names.
class DurableService {
public:
    explicit DurableService(const std::string& config_yaml = {})
    {
        if (!config_yaml.empty()) {
            std::ofstream(dir_.path() / "service.yaml") << config_yaml;
            args_.insert(args_.end(), {"--config", (dir_.path() / "service.yaml").string()});
        }
    }

    std::unique_ptr<Process> start()
    {
        auto process = std::make_unique<Process>(binary, args_, std::vector<std::string>{}, dir_.path().string());
        const auto line = process->wait_for_line("message=\"STARTING\"");
        port_ = line ? port_from_log_line(*line) : 0;
        return process;
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }

private:
    ScratchDir dir_;
    std::vector<std::string> args_{"--host", "127.0.0.1", "--port", "0"};
    std::uint16_t port_ = 0;
};

std::map<std::string, json> write_entries(std::uint16_t port, int count)
{
    std::map<std::string, json> written;
    HttpClient client(port);
    for (int i = 0; i < count; ++i) {
        const json entry = {{"full_name", "Durable Person " + std::to_string(i)}};
        const auto response = client.request(verb::post, "/addresses", entry.dump());
        EXPECT_EQ(response.result(), status::created);
        written[std::string(response[field::location]).substr(11)] = entry;
    }
    return written;
}

void expect_all_there(std::uint16_t port, const std::map<std::string, json>& written)
{
    HttpClient client(port);
    const auto list = json::parse(client.get("/addresses").body());
    EXPECT_EQ(list.size(), written.size());
    for (const auto& [id, entry] : written) {
        EXPECT_EQ(list.value(id, json()), entry) << id;
    }
}

class BinaryDurability : public ::testing::TestWithParam<std::string> {};

TEST_P(BinaryDurability, EntriesSurviveARestart)
{
    DurableService service(GetParam());
    auto first = service.start();
    ASSERT_NE(service.port(), 0) << first->output();
    const auto written = write_entries(service.port(), 20);
    first->signal(SIGTERM);
    ASSERT_EQ(first->wait_exit(), 0);
    auto second = service.start();
    ASSERT_NE(service.port(), 0) << second->output();
    expect_all_there(service.port(), written);
}

TEST_P(BinaryDurability, EntriesSurviveKillNineRightAfterTheLastResponse)
{
    DurableService service(GetParam());
    auto first = service.start();
    ASSERT_NE(service.port(), 0) << first->output();
    const auto written = write_entries(service.port(), 20);
    first->signal(SIGKILL);
    ASSERT_EQ(first->wait_exit(), 128 + SIGKILL);
    auto second = service.start();
    ASSERT_NE(service.port(), 0) << second->output();
    expect_all_there(service.port(), written);
}

// The default (sqlite at ./var/addressbook.db) and the fs store.
INSTANTIATE_TEST_SUITE_P(Stores, BinaryDurability, ::testing::Values("", "addr-db: {fs: ./var/addresses}\n"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                             return param_info.param.empty() ? std::string("sqlite") : std::string("fs");
                         });

TEST(BinaryConfig, ASecondProcessOnAnFsStoreIsOneLineAndExitTwoAndTheFirstServesOn)
{
    const ScratchDir dir;
    std::ofstream(dir.path() / "fs.yaml") << "addr-db: {fs: ./var/addresses}\n";
    const std::vector<std::string> args{"--host", "127.0.0.1", "--port", "0", "--config", "fs.yaml"};
    std::map<std::string, json> written;
    {
        Process first(binary, args, {}, dir.path().string());
        const auto line = first.wait_for_line("message=\"STARTING\"");
        ASSERT_TRUE(line) << first.output();
        const auto port = port_from_log_line(*line);
        written = write_entries(port, 3);
        Process second(binary, args, {}, dir.path().string());
        EXPECT_EQ(second.wait_exit(), 2);
        EXPECT_EQ(second.output(),
                  "addrservice: config: addr-db: fs: directory './var/addresses' is in use by another process (the "
                  "fs store is for one process at a time)\n");
        expect_all_there(port, written);
        first.signal(SIGTERM);
        ASSERT_EQ(first.wait_exit(), 0);
    }
    // Once the first has stopped, the directory is free.
    Process third(binary, args, {}, dir.path().string());
    const auto line = third.wait_for_line("message=\"STARTING\"");
    ASSERT_TRUE(line) << third.output();
    expect_all_there(port_from_log_line(*line), written);
}

TEST(BinaryWorkers, TwoWorkersOnSqliteShareThePortAndSeeEachOthersWrites)
{
    const ScratchDir dir;
    Process parent(binary, {"--workers", "2", "--host", "127.0.0.1", "--port", "0"}, {}, dir.path().string());
    const auto first = parent.wait_for_line("message=\"STARTING\"");
    const auto second = parent.wait_for_line("message=\"STARTING\"");
    ASSERT_TRUE(first && second) << parent.output();
    const auto port = port_from_log_line(*first);
    EXPECT_EQ(port_from_log_line(*second), port);  // chosen once, served by both
    EXPECT_NE(first->substr(first->find(" pid=")), second->substr(second->find(" pid=")));

    // Writes over many connections (spread over both workers by the kernel), each read back over others.
    std::map<std::string, json> written;
    for (int i = 0; i < 20; ++i) {
        HttpClient client(port);
        const json entry = {{"full_name", "Worker Entry " + std::to_string(i)}};
        const auto response = client.request(verb::post, "/addresses", entry.dump());
        ASSERT_EQ(response.result(), status::created);
        written[std::string(response[field::location]).substr(11)] = entry;
    }
    for (int i = 0; i < 20; ++i) {
        expect_all_there(port, written);
    }

    parent.signal(SIGTERM);
    EXPECT_EQ(parent.wait_exit(), 0);
    const auto& output = parent.output();
    std::size_t stopped = 0;
    for (auto at = output.find("message=\"STOPPED\""); at != std::string::npos;
         at = output.find("message=\"STOPPED\"", at + 1)) {
        ++stopped;
    }
    EXPECT_EQ(stopped, 2U) << output;
}

TEST(BinaryWorkers, SighupToTheParentReachesEveryWorkerAndStopsNothing)
{
    const ScratchDir dir;
    Process parent(binary, {"--workers", "2", "--host", "127.0.0.1", "--port", "0"}, {}, dir.path().string());
    const auto first = parent.wait_for_line("message=\"STARTING\"");
    ASSERT_TRUE(first && parent.wait_for_line("message=\"STARTING\"")) << parent.output();
    parent.signal(SIGHUP);
    EXPECT_TRUE(parent.wait_for_line("message=\"RELOAD\"") && parent.wait_for_line("message=\"RELOAD\""))
        << parent.output();
    for (int i = 0; i < 4; ++i) {
        HttpClient client(port_from_log_line(*first));
        EXPECT_EQ(client.get("/livez").result(), status::ok);
    }
    parent.signal(SIGTERM);
    EXPECT_EQ(parent.wait_exit(), 0);
    const auto& output = parent.output();
    std::size_t stopped = 0;
    for (auto at = output.find("message=\"STOPPED\""); at != std::string::npos;
         at = output.find("message=\"STOPPED\"", at + 1)) {
        ++stopped;
    }
    EXPECT_EQ(stopped, 2U) << output;
}

/// The pid of the first of a `--workers 2` parent's workers to start, once both have; 0 when they did not.
int first_of_two_workers(Process& parent)
{
    const auto first = parent.wait_for_line("message=\"STARTING\"");
    if (!first || !parent.wait_for_line("message=\"STARTING\"")) {
        return 0;
    }
    const auto pid_at = first->find(" pid=") + 5;
    return std::stoi(first->substr(pid_at, first->find_first_not_of("0123456789", pid_at) - pid_at));
}

TEST(BinaryWorkers, AWorkerThatDiesIsNamedAndTheOthersStopWithExitOne)
{
    const ScratchDir dir;
    Process parent(binary, {"--workers", "2", "--host", "127.0.0.1", "--port", "0"}, {}, dir.path().string());
    const auto pid = first_of_two_workers(parent);
    ASSERT_GT(pid, 0) << parent.output();
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    EXPECT_EQ(parent.wait_exit(), 1);
    const auto& output = parent.output();
    EXPECT_NE(output.find("addrservice: worker " + std::to_string(pid) +
                          " was killed by signal 9 (Killed); stopping the others\n"),
              std::string::npos)
        << output;
    EXPECT_NE(output.find("message=\"STOPPED\""), std::string::npos) << output;  // the other one, drained
}

/// The state letter of a process (/proc/PID/stat): R running, S sleeping, T stopped...
char process_state(int pid)
{
    const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto after_name = stat.rfind(") ");
    return after_name == std::string::npos ? '?' : stat[after_name + 2];
}

TEST(BinaryWorkers, AStoppedWorkerIsWokenToDrainWhenTheServiceStops)
{
    const ScratchDir dir;
    Process parent(binary, {"--workers", "2", "--host", "127.0.0.1", "--port", "0"}, {}, dir.path().string());
    const auto pid = first_of_two_workers(parent);
    ASSERT_GT(pid, 0) << parent.output();
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (process_state(pid) != 'T' && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    ASSERT_EQ(process_state(pid), 'T');
    parent.signal(SIGTERM);
    EXPECT_EQ(parent.wait_exit(std::chrono::seconds(10)), 0) << parent.output();
    const auto& output = parent.output();
    std::size_t stopped = 0;
    for (auto at = output.find("message=\"STOPPED\""); at != std::string::npos;
         at = output.find("message=\"STOPPED\"", at + 1)) {
        ++stopped;
    }
    EXPECT_EQ(stopped, 2U) << output;
}

TEST(BinaryWorkers, AStoreThatCannotBeOpenedIsOneLineAndExitTwo)
{
    const ScratchDir dir;
    std::ofstream(dir.path() / "occupied") << "a file where the store's directory would go\n";
    std::ofstream(dir.path() / "store.yaml") << "addr-db: {sqlite: ./occupied/book.db}\n";
    for (const std::string workers : {"1", "2"}) {
        Process process(binary, {"--workers", workers, "--config", "store.yaml"}, {}, dir.path().string());
        EXPECT_EQ(process.wait_exit(), 2) << workers;
        const auto& output = process.output();
        EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
        EXPECT_TRUE(output.starts_with("addrservice: config: addr-db: sqlite: cannot open './occupied/book.db'"))
            << output;
    }
}

TEST(BinaryInstall, TheInstalledBinaryRunsFromAnotherDirectory)
{
    const ScratchDir prefix;
    Process install(ADDRSERVICE_CMAKE, {"--install", ADDRSERVICE_BUILD_DIR, "--prefix", prefix.path().string()});
    ASSERT_EQ(install.wait_exit(), 0) << install.output();
    const auto& root = prefix.path();
    for (const char* file :
         {"bin/addrservice", "share/addrservice/address-book-v1.0.json", "share/addrservice/openapi.yaml",
          "etc/addrservice/addressbook-local.yaml", "lib/systemd/system/addrservice.service"}) {
        EXPECT_TRUE(std::filesystem::exists(root / file)) << file;
    }

    // Run from a directory that holds none of the sources: the schema and OpenAPI text are built in.
    const ScratchDir work;
    Process service((root / "bin" / "addrservice").string(),
                    {"--config", (root / "etc" / "addrservice" / "addressbook-local.yaml").string(), "--host",
                     "127.0.0.1", "--port", "0"},
                    {}, work.path().string());
    const auto starting = service.wait_for_line("message=\"STARTING\"");
    ASSERT_TRUE(starting) << service.output();
    EXPECT_NE(starting->find("db=\"sqlite:./var/addressbook.db\""), std::string::npos) << *starting;
    HttpClient client(port_from_log_line(*starting));
    const auto created = client.request(verb::post, "/addresses", sample("tobias-renwick-adeyemi.json"));
    ASSERT_EQ(created.result(), status::created);
    EXPECT_EQ(client.get(std::string(created[field::location])).result(), status::ok);
    EXPECT_EQ(client.get("/openapi.yaml").body(), read_file(root / "share" / "addrservice" / "openapi.yaml"));
    service.signal(SIGTERM);
    EXPECT_EQ(service.wait_exit(), 0);
    EXPECT_TRUE(std::filesystem::exists(work.path() / "var" / "addressbook.db"));
}

TEST(Packaging, TheSystemdUnitVerifies)
{
    const auto unit = read_file(source_dir() / "packaging" / "addrservice.service");
    for (const char* line : {"Restart=on-failure", "KillSignal=SIGTERM", "TimeoutStopSec=20", "DynamicUser=yes",
                             "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/addrservice"}) {
        EXPECT_NE(unit.find(std::string("\n") + line + "\n"), std::string::npos) << line;
    }
    const std::string analyze = "/usr/bin/systemd-analyze";
    if (!std::filesystem::exists(analyze)) {
        GTEST_SKIP() << "systemd-analyze is not installed";
    }
    // verify wants ExecStart's binary to exist: point it at the one just built.
    const ScratchDir dir;
    const auto copy = dir.path() / "addrservice.service";
    std::ofstream(copy) << std::regex_replace(unit, std::regex("/usr/local/bin/addrservice"), binary);
    Process verify(analyze, {"verify", copy.string()});
    EXPECT_EQ(verify.wait_exit(), 0) << verify.output();
    EXPECT_EQ(verify.output(), "");  // an unknown key or a bad value is only a warning: none allowed
}

TEST(Packaging, TheRuntimePackagesHoldEveryLibraryTheBinaryLoads)
{
    // In every Debian image; and the sanitizers' runtimes, which only a sanitizer build loads.
    std::set<std::string> listed{"libc6", "libgcc-s1", "libasan8", "libubsan1"};
    std::istringstream list(read_file(source_dir() / "tools" / "runtime-packages.txt"));
    for (std::string line; std::getline(list, line);) {
        line = line.substr(0, line.find('#'));
        line.erase(std::remove_if(line.begin(), line.end(), ::isspace), line.end());
        if (!line.empty()) {
            listed.insert(line);
        }
    }
    Process ldd("/usr/bin/ldd", {binary});
    ASSERT_EQ(ldd.wait_exit(), 0) << ldd.output();
    const std::regex loaded(R"(=> (/\S+) \(0x)");
    int checked = 0;
    const auto& output = ldd.output();
    for (std::sregex_iterator it(output.begin(), output.end(), loaded), end; it != end; ++it) {
        // By directory and file name: dpkg may know it under /lib where the file system says /usr/lib.
        const auto file = std::filesystem::canonical((*it)[1].str());
        const auto path = "*/" + file.parent_path().filename().string() + "/" + file.filename().string();
        Process owner("/usr/bin/dpkg", {"-S", path});
        ASSERT_EQ(owner.wait_exit(), 0) << owner.output();
        const auto package = owner.output().substr(0, owner.output().find_first_of(":"));
        EXPECT_TRUE(listed.contains(package))
            << path << " comes from " << package << ", which tools/runtime-packages.txt does not list";
        ++checked;
    }
    EXPECT_GE(checked, 5) << output;
}

}  // namespace
}  // namespace addrservice::testing
