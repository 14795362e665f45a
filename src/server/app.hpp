#pragma once

#include "addrservice/address_service.hpp"
#include "addrservice/logging.hpp"
#include "addrservice/task.hpp"
#include "server/authorization.hpp"
#include "server/metrics.hpp"
#include "server/response_body.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

namespace addrservice::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
/// A stored entry's (or the list's) JSON text is sent as the store keeps it, not copied into each response. A
/// body too long to hold is a stream instead, which the connection writes part by part as the client reads
/// (chunked in HTTP/1.1).
using Response = boost::beast::http::response<ResponseBody>;

/// The bytes of a response's body: the shared entry's when it has one, its own otherwise.
[[nodiscard]] std::string_view body_of(const Response& response) noexcept;
using Status = boost::beast::http::status;

struct AppOptions {
    bool debug = false;                    // error bodies carry a "trace" field
    std::size_t max_body_bytes = 1048576;  // bounds an inflated gzip request body too
    std::optional<AuthConfig> auth;        // bearer tokens; without, every request is served
};

/// What the server knows of a request it could not read whole (malformed, or over a limit).
struct RejectedRequest {
    std::string method;  // empty when the request line was not read
    std::string uri;
    std::string peer_ip;
    std::string request_id;
    unsigned version = 11;
};

/// The HTTP application: request in, response out; no socket. Wraps every request in the same
/// pipeline (request id, timing and the canonical log line, catch-all 500, domain errors) around one
/// route table that maps method + path to one AddressService call.
class App {
public:
    /// With options.auth, reads the tokens file: throws ConfigError when it cannot.
    App(AddressService& service, Logger& logger, AppOptions options);

    /// Answers one request. Never throws: a fault becomes a 500 and the caller keeps serving.
    Task<Response> handle(Request request, std::string peer_ip);

    /// An error response for a request the server rejected before it could be handled
    /// (400 malformed, 413, 431, 501, 503), logged like any other response. Never throws.
    Response reject(const RejectedRequest& request, Status status, std::string_view message) noexcept;

    /// Reads the tokens file again (with auth:), and logs a RELOAD line naming the signal and what was
    /// reloaded; a file that cannot be read is logged at ERROR and the tokens in force stay. Never throws.
    void reload(std::string_view signal) noexcept;

    /// Readiness turns 503 once shutdown has begun.
    void set_draining() noexcept { draining_ = true; }
    [[nodiscard]] bool draining() const noexcept { return draining_; }

    /// What /metrics reports; the server counts its connections here.
    [[nodiscard]] Metrics& metrics() noexcept { return metrics_; }

    struct Call;
    using Handler = Task<Response> (App::*)(Call);

    /// One row of the route table: a method, a path template (literal segments and {id}), a handler.
    struct Route {
        boost::beast::http::verb method;
        std::string_view path;
        Handler handler;
    };

    /// The API, top to bottom, as this application routes it.
    static std::span<const Route> routes() noexcept;

private:
    struct Exchange;

    Task<Response> list_addresses(Call call);
    Task<Response> create_address(Call call);
    Task<Response> get_address(Call call);
    Task<Response> update_address(Call call);
    Task<Response> patch_address(Call call);
    Task<Response> delete_address(Call call);
    Task<Response> livez(Call call);
    Task<Response> readyz(Call call);
    Task<Response> get_metrics(Call call);
    Task<Response> get_openapi(Call call);

    void describe(Exchange& exchange, const Request& request);
    /// With auth:, refuses a request without a token that allows it (401, 403) and names its client.
    void authorize(Exchange& exchange, const Request& request, std::string_view path) const;
    /// Finishes a response in place (common headers, gzip, 304) and records its log line and metrics; a
    /// fault in these makes it a 500 (or, out of memory, a bare 500). By reference: a move of a response
    /// costs a GET about as much as a header lookup.
    void complete(Response& response, Exchange& exchange) noexcept;
    /// The error response for the exception being handled; call it in a catch block.
    Response error_response(Exchange& exchange) noexcept;
    Response error_for_current_exception(Exchange& exchange);
    static Response bare_internal_error(unsigned version) noexcept;
    Response make_error(const Exchange& exchange, Status status, std::string_view message,
                        const nlohmann::ordered_json* errors = nullptr, std::string_view trace = {}) const;
    void finish(Response& response, const Exchange& exchange);
    void record(const Exchange& exchange, const Response& response) noexcept;
    void log_response(const Exchange& exchange, const Response& response, unsigned code, double seconds);
    std::string new_request_id();
    const std::string& http_date();

    AddressService& service_;
    Logger& logger_;
    AppOptions options_;
    std::optional<AccessControl> access_;
    bool draining_ = false;
    Metrics metrics_;
    std::mt19937_64 random_;
    std::int64_t date_second_ = -1;
    std::string date_text_;
};

/// A client's X-Request-ID is kept when it is 1-128 characters of [A-Za-z0-9._-].
bool is_valid_request_id(std::string_view id) noexcept;

/// A message as a status line may carry it: control characters (CR and LF among them) become spaces.
std::string reason_phrase(std::string_view message);

/// True when an If-None-Match header value names etag (or is "*").
bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept;

/// True when an Accept-Encoding header value accepts gzip (q > 0).
bool accepts_gzip(std::string_view accept_encoding) noexcept;

}  // namespace addrservice::http
