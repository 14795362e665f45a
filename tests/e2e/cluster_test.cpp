// Scaling out: two instances of the built binary on one PostgreSQL database, behind nginx as the balancer
// (the shape of tools/run.py cluster). Named Postgres* so that it shares the binary's one server.
#include "e2e/readme_session.hpp"
#include "support/http_client.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using Clock = std::chrono::steady_clock;
using testing::TempDir;

const std::string nginx_binary = "/usr/sbin/nginx";

/// The binary on a free loopback port with the postgres store, its port read from the STARTING line.
class ClusterInstance {
public:
    ClusterInstance(const std::filesystem::path& config, const std::string& url)
        : process_(binary, {"--port", "0", "--host", "127.0.0.1", "--config", write_config(config, url)})
    {
        if (const auto line = process_.wait_for_line("STARTING\"")) {
            port_ = port_from_log_line(*line);
        }
    }

    [[nodiscard]] std::uint16_t port() const { return port_; }
    Process& process() { return process_; }

private:
    static std::string write_config(const std::filesystem::path& config, const std::string& url)
    {
        std::ofstream(config) << "addr-db: {postgres: '" << url << "'}\n";
        return config.string();
    }

    Process process_;
    std::uint16_t port_ = 0;
};

std::uint16_t free_loopback_port()
{
    boost::asio::io_context io;
    const boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

/// nginx's config as tools/run.py cluster writes it: an upstream of the instances with keep-alive, every
/// path in dir; one process (master_process off) so that the test's SIGKILL on failure leaves no worker.
std::string nginx_config(const std::filesystem::path& dir, std::uint16_t port,
                         const std::vector<std::uint16_t>& upstreams)
{
    std::string servers;
    for (const auto upstream : upstreams) {
        servers += "        server 127.0.0.1:" + std::to_string(upstream) + ";\n";
    }
    const auto temp = (dir / "temp").string();
    const std::string user = ::geteuid() == 0 ? "user root;\n" : "";
    return user + "daemon off;\nmaster_process off;\npid " + (dir / "nginx.pid").string() + ";\nerror_log " +
           (dir / "error.log").string() +
           " notice;\n"
           "events { worker_connections 256; }\n"
           "http {\n"
           "    access_log off;\n"
           "    client_body_temp_path " +
           temp + "/body;\n    proxy_temp_path " + temp + "/proxy;\n    fastcgi_temp_path " + temp +
           "/fastcgi;\n    uwsgi_temp_path " + temp + "/uwsgi;\n    scgi_temp_path " + temp +
           "/scgi;\n"
           "    upstream addrservice {\n" +
           servers +
           "        keepalive 8;\n"
           "    }\n"
           "    server {\n"
           "        listen 127.0.0.1:" +
           std::to_string(port) +
           ";\n"
           "        location / {\n"
           "            proxy_pass http://addrservice;\n"
           "            proxy_http_version 1.1;\n"
           "            proxy_set_header Connection \"\";\n"
           "            proxy_set_header Host $host;\n"
           "        }\n"
           "    }\n"
           "}\n";
}

/// nginx in front of the upstreams on a free loopback port, started and answering.
class Balancer {
public:
    Balancer(const std::filesystem::path& dir, const std::vector<std::uint16_t>& upstreams)
        : port_(free_loopback_port()), process_(nginx_binary, arguments(dir, port_, upstreams))
    {
    }

    /// True once a request through nginx is answered by an instance (nginx gives no sign of readiness).
    bool wait_ready()
    {
        const auto deadline = Clock::now() + std::chrono::seconds(20);
        while (Clock::now() < deadline && !process_.wait_exit(std::chrono::milliseconds(0))) {
            try {
                HttpClient client(port_);
                if (client.get("/readyz").result() == status::ok) {
                    return true;
                }
            } catch (const std::exception&) {
                // Not listening yet.
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    [[nodiscard]] std::uint16_t port() const { return port_; }
    Process& process() { return process_; }

private:
    static std::vector<std::string> arguments(const std::filesystem::path& dir, std::uint16_t port,
                                              const std::vector<std::uint16_t>& upstreams)
    {
        std::filesystem::create_directories(dir / "temp");
        const auto conf = dir / "nginx.conf";
        std::ofstream(conf) << nginx_config(dir, port, upstreams);
        return {"-e", (dir / "error.log").string(), "-p", dir.string() + "/", "-c", conf.string()};
    }

    std::uint16_t port_;
    Process process_;
};

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PostgresCluster, TwoInstancesBehindNginxServeOneAddressBook)
{
    ASSERT_TRUE(std::filesystem::exists(nginx_binary)) << "nginx is not installed (tools/run.py setup installs it)";
    auto& server = postgres();
    const auto database = server.create_database();
    const TempDir dir("e2e-cluster");
    ClusterInstance first(dir.path() / "first.yaml", server.url(database));
    ClusterInstance second(dir.path() / "second.yaml", server.url(database));
    ASSERT_NE(first.port(), 0) << first.process().output();
    ASSERT_NE(second.port(), 0) << second.process().output();
    Balancer nginx(dir.path() / "nginx", {first.port(), second.port()});
    ASSERT_TRUE(nginx.wait_ready()) << nginx.process().output() << read_file(dir.path() / "nginx" / "error.log");

    HttpClient to_first(first.port());
    HttpClient to_second(second.port());
    HttpClient to_nginx(nginx.port());

    // Written through one instance: the same entry, byte for byte and with the same ETag, everywhere.
    const std::string body = R"({"full_name":"Ingeborg Vasquez-Achterberg"})";
    const auto created = to_first.request(verb::post, "/addresses", body);
    ASSERT_EQ(created.result(), status::created) << created.body();
    const auto location = std::string(created[field::location]);
    const auto from_first = to_first.get(location);
    ASSERT_EQ(from_first.result(), status::ok);
    EXPECT_FALSE(from_first[field::etag].empty());
    for (auto* client : {&to_second, &to_nginx}) {
        const auto read = client->get(location);
        ASSERT_EQ(read.result(), status::ok);
        EXPECT_EQ(read.body(), body);
        EXPECT_EQ(read[field::etag], from_first[field::etag]);
    }

    // Written through nginx (on whichever instance it picks): readable from both.
    const std::string other = R"({"full_name":"Casimir Oyelaran-Ferreira"})";
    const auto through_nginx = to_nginx.request(verb::post, "/addresses", other);
    ASSERT_EQ(through_nginx.result(), status::created) << through_nginx.body();
    const auto other_location = std::string(through_nginx[field::location]);
    const auto etag = std::string(to_nginx.get(other_location)[field::etag]);
    for (auto* client : {&to_first, &to_second}) {
        const auto read = client->get(other_location);
        ASSERT_EQ(read.result(), status::ok) << other_location;
        EXPECT_EQ(read.body(), other);
        EXPECT_EQ(read[field::etag], etag);
    }

    // An update through nginx is seen at once by both (nothing is cached between requests).
    const std::string changed = R"({"full_name":"Casimir Oyelaran"})";
    EXPECT_EQ(to_nginx.request(verb::put, other_location, changed).result(), status::no_content);
    EXPECT_EQ(to_first.get(other_location).body(), changed);
    EXPECT_EQ(to_second.get(other_location).body(), changed);

    // nginx's round robin spreads requests over both: each instance logs some of these (their uri only
    // ever comes through nginx).
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(to_nginx.get("/addresses/through-nginx-" + std::to_string(i)).result(), status::not_found);
    }

    nginx.process().signal(SIGQUIT);
    EXPECT_EQ(nginx.process().wait_exit(), 0) << nginx.process().output();
    for (auto* instance : {&first, &second}) {
        instance->process().signal(SIGTERM);
        EXPECT_EQ(instance->process().wait_exit(), 0) << instance->process().output();
        EXPECT_NE(instance->process().output().find("uri=\"/addresses/through-nginx-"), std::string::npos)
            << instance->process().output();
    }
}

}  // namespace
}  // namespace addrservice::testing
