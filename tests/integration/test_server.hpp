#pragma once

#include "addrservice/address_service.hpp"
#include "addrservice/logging.hpp"
#include "addrservice/store/memory_store.hpp"
#include "server/app.hpp"
#include "server/server.hpp"
#include "server/tls.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace addrservice::testing {

/// The real HTTP layer in-process: a Server on 127.0.0.1:0 with its io_context on its own thread.
/// Logs go to a string, readable once the server has stopped.
class TestServer {
public:
    explicit TestServer(Limits limits = {}, std::shared_ptr<AddressStore> store = std::make_shared<MemoryStore>(),
                        bool debug = false, std::optional<AuthConfig> auth = std::nullopt,
                        std::shared_ptr<const http::TlsContext> tls = nullptr);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;
    TestServer(TestServer&&) = delete;
    TestServer& operator=(TestServer&&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// Begins a graceful shutdown on the server's thread.
    void begin_shutdown();
    /// Shuts down (if not already) and waits until the server has drained and its thread ended.
    void stop();
    /// The log text; call after stop().
    [[nodiscard]] std::string log() const { return log_.str(); }
    /// Runs f on the server's thread and waits for it.
    void on_server_thread(const std::function<void()>& f);
    [[nodiscard]] std::size_t connections();
    /// Sets the server's fault hook (see Server::inject_faults).
    void inject_faults(std::function<void(std::string_view step)> hook);
    boost::asio::io_context& io() { return io_; }

private:
    std::ostringstream log_;
    Logger logger_;
    std::shared_ptr<AddressStore> store_;
    AddressService service_;
    http::App app_;
    boost::asio::io_context io_;
    http::Server server_;
    std::uint16_t port_;
    std::thread thread_;
};

/// Checks that answer, a response read until the server closed, is a header block whose Content-Length is
/// expected's length followed by exactly expected: nothing lost, nothing more.
void expect_whole_response(const std::string& answer, const std::string& expected);

}  // namespace addrservice::testing
