#pragma once

#include "addrservice/auth.hpp"
#include "addrservice/config.hpp"
#include "addrservice/logging.hpp"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace addrservice::http {

/// What the auth: configuration says of one request.
enum class Verdict {
    open,          // the path needs no token
    allowed,       // a known token whose scope covers the method
    unauthorized,  // no token, a malformed one or an unknown one: 401
    forbidden,     // a read token on a method that writes: 403
};

struct AccessDecision {
    Verdict verdict = Verdict::unauthorized;
    const Client* client = nullptr;  // the token's holder, when known; valid until the next reload
};

/// The token of an Authorization value "Bearer <token68>" (RFC 6750 section 2.1; the scheme in any
/// case); empty when the value is not one.
std::string_view bearer_token(std::string_view authorization) noexcept;

/// True for the methods a read token may not use: POST, PUT, PATCH and DELETE.
bool needs_write_scope(boost::beast::http::verb method) noexcept;

/// Bearer-token access control as auth: configures it. Its tokens are read again on reload().
class AccessControl {
public:
    /// Reads the tokens file. Throws ConfigError naming the file (and the line) when it cannot.
    explicit AccessControl(AuthConfig config);

    /// The decision for a request: its method, its path (without query or trailing slash) and its fields.
    [[nodiscard]] AccessDecision decide(boost::beast::http::verb method, std::string_view path,
                                        const boost::beast::http::fields& fields) const;

    /// Reads the tokens file again and returns how many tokens it holds. When it cannot be read or has a
    /// bad line, throws ConfigError and the tokens read before stay in force.
    std::size_t reload();

    [[nodiscard]] const std::string& tokens_file() const noexcept { return config_.tokens_file; }

private:
    [[nodiscard]] bool is_open(std::string_view path) const noexcept;

    AuthConfig config_;
    TokenTable tokens_;
};

/// True when host (an IP address, as --host takes it) is a loopback address: 127.0.0.0/8 or ::1.
bool is_loopback_host(const std::string& host) noexcept;

/// Without auth:, on an address that is not loopback, logs a WARNING: whoever reaches the port may
/// read and write every entry.
void warn_if_unauthenticated(const Config& config, Logger& logger);

}  // namespace addrservice::http
