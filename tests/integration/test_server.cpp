#include "integration/test_server.hpp"

#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <future>

namespace addrservice::testing {

namespace {

LoggingConfig test_logging()
{
    LoggingConfig config;
    config.console = ConsoleFormat::detailed;
    config.level = LogLevel::debug;
    config.async = false;
    return config;
}

}  // namespace

TestServer::TestServer(Limits limits, std::shared_ptr<AddressStore> store, bool debug, std::optional<AuthConfig> auth,
                       std::shared_ptr<const http::TlsContext> tls)
    : logger_(test_logging(), log_),
      store_(std::move(store)),
      service_(store_, ServiceOptions{limits.max_body_bytes, limits.max_page}),
      app_(service_, logger_, http::AppOptions{debug, limits.max_body_bytes, std::move(auth)}),
      io_(1),
      server_(io_, app_, logger_, "127.0.0.1", 0, limits, false, std::move(tls)),
      port_(server_.port())
{
    // The socket listens from the constructor on, so clients may connect before the loop runs.
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
}

TestServer::~TestServer()
{
    stop();
}

void TestServer::begin_shutdown()
{
    boost::asio::post(io_, [this] { server_.shutdown(); });
}

void TestServer::stop()
{
    if (!thread_.joinable()) {
        return;
    }
    begin_shutdown();
    thread_.join();
}

void TestServer::on_server_thread(const std::function<void()>& f)
{
    std::promise<void> done;
    boost::asio::post(io_, [&] {
        f();
        done.set_value();
    });
    done.get_future().wait();
}

std::size_t TestServer::connections()
{
    std::size_t count = 0;
    on_server_thread([&] { count = server_.connections(); });
    return count;
}

void TestServer::inject_faults(std::function<void(std::string_view step)> hook)
{
    on_server_thread([&] { server_.inject_faults(std::move(hook)); });
}

void expect_whole_response(const std::string& answer, const std::string& expected)
{
    const auto body_start = answer.find("\r\n\r\n");
    ASSERT_NE(body_start, std::string::npos) << answer;
    EXPECT_NE(answer.find("Content-Length: " + std::to_string(expected.size()) + "\r\n"), std::string::npos);
    EXPECT_EQ(answer.size() - body_start - 4, expected.size());
    EXPECT_TRUE(answer.substr(body_start + 4) == expected);
}

}  // namespace addrservice::testing
