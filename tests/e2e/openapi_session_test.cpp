// A session of every endpoint, its successes and its errors, through Prism's validating proxy against
// the built binary: every request and every answer must be what docs/openapi.yaml describes.
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/sha256_hex.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;

const std::filesystem::path source_dir = ADDRSERVICE_SOURCE_DIR;

std::uint16_t free_port()
{
    boost::asio::io_context io;
    const boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

/// A request through the proxy, and what the service is to answer.
class Session {
public:
    Session(std::uint16_t port, const std::string& token) : client_(port), authorization_("Bearer " + token) {}

    /// Every request carries the session's token (the probes need none, and ignore it).
    ClientResponse expect(status expected, verb method, const std::string& target, const std::string& body = {},
                          std::vector<std::pair<std::string, std::string>> headers = {})
    {
        headers.emplace_back("Authorization", authorization_);
        auto response = client_.request(method, target, body, headers);
        const auto what = std::string(boost::beast::http::to_string(method)) + " " + target;
        EXPECT_EQ(response.result(), expected) << what << "\n" << response.body();
        // Prism reports a request or response that the description does not allow in this header (and,
        // with --errors, answers in its own application/problem+json instead of the service).
        EXPECT_EQ(response.count("sl-violations"), 0U) << what << ": " << response["sl-violations"];
        EXPECT_NE(response[field::content_type], "application/problem+json") << what << "\n" << response.body();
        return response;
    }

private:
    HttpClient client_;
    std::string authorization_;
};

TEST(OpenApiSession, EveryEndpointAnswersAsDocsOpenapiYamlDescribes)
{
    const auto prism = source_dir / "tools" / "node_modules" / ".bin" / "prism";
    if (!std::filesystem::exists(prism)) {
        GTEST_SKIP() << "Prism is not installed (tools/run.py setup installs it with npm ci in tools/)";
    }
    const auto dir = std::filesystem::temp_directory_path() / ("addrservice-e2e-prism-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    // Small pages and bodies, so that the session meets a streamed list and a 413; tokens, as the
    // description wants a bearer token on every path but the probes.
    const std::string token = "openapi-session-write-token";
    std::ofstream(dir / "tokens") << "write " << sha256_hex(token) << " openapi-session\n";
    std::ofstream(dir / "config.yaml") << "addr-db: {memory: null}\nlimits: {max_page: 3, max_body_bytes: 4096}\n"
                                       << "auth: {tokens_file: " << (dir / "tokens").string() << "}\n";
    Process service(ADDRSERVICE_BINARY,
                    {"--port", "0", "--host", "127.0.0.1", "--config", (dir / "config.yaml").string()});
    const auto starting = service.wait_for_line("STARTING\"");
    ASSERT_TRUE(starting) << service.output();
    const auto upstream = "http://127.0.0.1:" + std::to_string(port_from_log_line(*starting));
    const auto proxy_port = free_port();
    Process proxy(prism.string(), {"proxy", "--errors", "-h", "127.0.0.1", "-p", std::to_string(proxy_port),
                                   (source_dir / "docs" / "openapi.yaml").string(), upstream});
    ASSERT_TRUE(proxy.wait_for_line("Prism is listening", std::chrono::seconds(60))) << proxy.output();

    Session session(proxy_port, token);
    // Probes, metrics and this description, with and without a trailing slash; HEAD where the answer
    // is not JSON (see README: Prism cannot proxy a HEAD answer that says it is JSON).
    session.expect(status::ok, verb::get, "/livez");
    session.expect(status::ok, verb::get, "/readyz");
    session.expect(status::ok, verb::get, "/healthz/");
    session.expect(status::ok, verb::get, "/metrics");
    session.expect(status::ok, verb::head, "/metrics/");
    session.expect(status::ok, verb::get, "/openapi.yaml");
    session.expect(status::ok, verb::head, "/openapi.yaml");

    // Create: JSON, and bodies of other types read as JSON all the same.
    session.expect(status::ok, verb::get, "/addresses");
    const auto created = session.expect(status::created, verb::post, "/addresses",
                                        R"({"full_name": "Wren Halloway", "emails": [{"kind": "home",
                                            "email": "wren@halloway.example"}]})",
                                        {{"Content-Type", "application/json"}});
    const std::string location(created[field::location]);
    session.expect(status::created, verb::post, "/addresses/", R"({"full_name": "Ines Marchetti-Sole"})",
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
    session.expect(status::bad_request, verb::post, "/addresses", "full_name=Wren", {{"Content-Type", "text/plain"}});
    session.expect(status::bad_request, verb::post, "/addresses",
                   R"({"full_name": "Wren", "emails": [{"kind": "holiday", "email": "wren@"}]})",
                   {{"Content-Type", "text/plain"}});
    session.expect(status::payload_too_large, verb::post, "/addresses", std::string(5000, ' '),
                   {{"Content-Type", "text/plain"}});

    // Read, conditionally too.
    const auto read = session.expect(status::ok, verb::get, location);
    const std::string etag(read[field::etag]);
    session.expect(status::not_modified, verb::get, location + "/", {}, {{"If-None-Match", etag}});
    session.expect(status::not_found, verb::get, "/addresses/nobody-here");

    // Replace: with If-Match, a safe create with If-None-Match: *, and their refusals.
    const auto replaced =
        session.expect(status::no_content, verb::put, location, R"({"full_name": "Wren H. Halloway"})",
                       {{"Content-Type", "application/json"}, {"If-Match", etag}});
    session.expect(status::precondition_failed, verb::put, location, R"({"full_name": "Stale"})",
                   {{"Content-Type", "application/json"}, {"If-Match", etag}});
    session.expect(status::not_found, verb::put, "/addresses/nobody-here", R"({"full_name": "Nobody"})",
                   {{"Content-Type", "application/json"}});
    session.expect(status::bad_request, verb::put, location, R"({"full_name": 7})", {{"Content-Type", "text/plain"}});
    session.expect(status::created, verb::put, "/addresses/tobias-ra", R"({"full_name": "Tobias Renwick-Adeyemi"})",
                   {{"Content-Type", "application/json"}, {"If-None-Match", "*"}});
    session.expect(status::precondition_failed, verb::put, "/addresses/tobias-ra", R"({"full_name": "Again"})",
                   {{"Content-Type", "application/json"}, {"If-None-Match", "*"}});

    // Change part of an entry, both ways, and the ways that fails.
    session.expect(
        status::no_content, verb::patch, location, R"({"emails": null})",
        {{"Content-Type", "application/merge-patch+json"}, {"If-Match", std::string(replaced[field::etag])}});
    session.expect(status::no_content, verb::patch, "/addresses/tobias-ra/",
                   R"([{"op": "add", "path": "/emails", "value": [{"kind": "work", "email": "t@ra.example"}]}])",
                   {{"Content-Type", "application/json-patch+json"}});
    session.expect(status::conflict, verb::patch, "/addresses/tobias-ra",
                   R"([{"op": "test", "path": "/full_name", "value": "Someone Else"}])",
                   {{"Content-Type", "application/json-patch+json"}});
    session.expect(status::bad_request, verb::patch, "/addresses/tobias-ra", R"({"emails": [{"kind": "moon"}]})",
                   {{"Content-Type", "application/merge-patch+json"}});
    session.expect(status::precondition_failed, verb::patch, location, R"({"full_name": "Stale"})",
                   {{"Content-Type", "application/merge-patch+json"}, {"If-Match", etag}});
    session.expect(status::not_found, verb::patch, "/addresses/nobody-here", R"({"full_name": "Nobody"})",
                   {{"Content-Type", "application/merge-patch+json"}});

    // Lists: pages with their Link, and (more than max_page entries) the streamed whole book.
    session.expect(status::created, verb::post, "/addresses", R"({"full_name": "Fourth"})",
                   {{"Content-Type", "application/json"}});
    const auto page = session.expect(status::ok, verb::get, "/addresses?limit=2");
    EXPECT_FALSE(page[field::link].empty());
    session.expect(status::ok, verb::get, "/addresses?limit=2&after=0");
    session.expect(status::ok, verb::get, "/addresses/?after=tobias-ra");
    session.expect(status::ok, verb::get, "/addresses");

    // Remove.
    const auto current = std::string(session.expect(status::ok, verb::get, location)[field::etag]);
    session.expect(status::precondition_failed, verb::delete_, location, {}, {{"If-Match", etag}});
    session.expect(status::no_content, verb::delete_, location, {}, {{"If-Match", current}});
    session.expect(status::not_found, verb::delete_, location);

    proxy.signal(SIGTERM);
    proxy.wait_exit();
    service.signal(SIGTERM);
    EXPECT_EQ(service.wait_exit(), 0);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace addrservice::testing
