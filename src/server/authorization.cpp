#include "server/authorization.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <iterator>
#include <utility>

namespace addrservice::http {

namespace beast_http = boost::beast::http;
using beast_http::verb;

namespace {

/// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_token68(std::string_view token) noexcept
{
    const auto padding = token.find_last_not_of('=');
    if (padding == std::string_view::npos) {
        return false;
    }
    const auto body = token.substr(0, padding + 1);
    return std::all_of(body.begin(), body.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~' || c == '+' || c == '/';
    });
}

std::string_view without_trailing_slash(std::string_view path) noexcept
{
    return path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
}

}  // namespace

std::string_view bearer_token(std::string_view authorization) noexcept
{
    constexpr std::string_view scheme = "bearer";
    const auto blank = authorization.find_first_of(" \t");
    if (blank == std::string_view::npos || !boost::beast::iequals(authorization.substr(0, blank), scheme)) {
        return {};
    }
    auto token = authorization.substr(blank);
    token.remove_prefix(std::min(token.find_first_not_of(" \t"), token.size()));
    token = token.substr(0, std::min(token.find_last_not_of(" \t"), token.size() - 1) + 1);
    return is_token68(token) ? token : std::string_view{};
}

bool needs_write_scope(verb method) noexcept
{
    return method == verb::post || method == verb::put || method == verb::patch || method == verb::delete_;
}

AccessControl::AccessControl(AuthConfig config)
    : config_(std::move(config)), tokens_(TokenTable::load(config_.tokens_file))
{
}

AccessDecision AccessControl::decide(verb method, std::string_view path, const beast_http::fields& fields) const
{
    if (is_open(path)) {
        return {Verdict::open, nullptr};
    }
    // Two Authorization fields are no credential: which one would count is anybody's guess.
    const auto [first, end] = fields.equal_range(beast_http::field::authorization);
    if (first == end || std::next(first) != end) {
        return {Verdict::unauthorized, nullptr};
    }
    const auto token = bearer_token(first->value());
    const Client* client = token.empty() ? nullptr : tokens_.find(token);
    if (client == nullptr) {
        return {Verdict::unauthorized, nullptr};
    }
    if (client->scope == Scope::read && needs_write_scope(method)) {
        return {Verdict::forbidden, client};
    }
    return {Verdict::allowed, client};
}

std::size_t AccessControl::reload()
{
    tokens_ = TokenTable::load(config_.tokens_file);  // assigned only once the whole file has been read
    return tokens_.size();
}

bool AccessControl::is_open(std::string_view path) const noexcept
{
    return std::any_of(config_.open.begin(), config_.open.end(),
                       [path](const std::string& open) { return without_trailing_slash(open) == path; });
}

bool is_loopback_host(const std::string& host) noexcept
{
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

void warn_if_unauthenticated(const Config& config, Logger& logger)
{
    if (config.auth || is_loopback_host(config.host)) {
        return;
    }
    LogFields fields;
    fields.add("message", "NO AUTHENTICATION")
        .add("host", config.host)
        .add("warning", "no auth: in the config: whoever reaches this address may read and write every entry");
    logger.log(LogLevel::warning, fields);
}

}  // namespace addrservice::http
