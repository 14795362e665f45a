#include "server/app.hpp"

#include "addrservice/errors.hpp"
#include "addrservice/hex.hpp"
#include "addrservice/version.hpp"
#include "server/conditional.hpp"
#include "server/framing.hpp"
#include "server/gzip.hpp"
#include "server/list_query.hpp"
#include "server/openapi.hpp"
#include "server/traceparent.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <array>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

namespace addrservice::http {

namespace beast_http = boost::beast::http;
using beast_http::field;
using beast_http::verb;

namespace {

constexpr std::string_view json_type = "application/json; charset=UTF-8";
constexpr std::size_t gzip_min_bytes = 1024;

/// An error the HTTP layer raises itself (routing, encodings, limits).
struct HttpError {
    Status status;
    std::string message;
    std::string allow;  // for 405
};

/// A PATCH body of a media type that is no patch format we apply: 415 with Accept-Patch.
struct UnsupportedPatchType {};

/// A request body in a content coding we do not inflate: 415 with Accept-Encoding (RFC 7694).
struct UnsupportedContentCoding {};

constexpr std::string_view accept_patch = "application/merge-patch+json, application/json-patch+json";

/// A request that auth: refuses: 401 (answered with a challenge) or 403.
struct AccessDenied {
    Status status;
};

bool is_id_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/// Matches a path against a template; on success sets id to the {id} segment, if any.
bool match_template(std::string_view pattern, std::string_view path, std::string_view& id) noexcept
{
    while (!pattern.empty() && !path.empty()) {
        const auto pattern_end = pattern.find('/', 1);
        const auto path_end = path.find('/', 1);
        const auto pattern_segment = pattern.substr(0, pattern_end);
        const auto path_segment = path.substr(0, path_end);
        if (pattern_segment == "/{id}") {
            const auto value = path_segment.substr(1);
            if (value.empty() || !std::all_of(value.begin(), value.end(), is_id_char)) {
                return false;
            }
            id = value;
        } else if (pattern_segment != path_segment) {
            return false;
        }
        pattern = pattern_end == std::string_view::npos ? std::string_view{} : pattern.substr(pattern_end);
        path = path_end == std::string_view::npos ? std::string_view{} : path.substr(path_end);
    }
    return pattern.empty() && path.empty();
}

std::string_view strip_query(std::string_view target) noexcept
{
    return target.substr(0, target.find('?'));
}

std::string_view strip_trailing_slash(std::string_view path) noexcept
{
    return path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
}

std::string_view trim(std::string_view text) noexcept
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

/// gzip, under either of its registered names (RFC 9110 section 8.4.1.3).
bool is_gzip_coding(std::string_view coding) noexcept
{
    return boost::beast::iequals(coding, "gzip") || boost::beast::iequals(coding, "x-gzip");
}

/// Calls f on each comma-separated, trimmed element of a header value; stops when f returns true.
template <typename F>
bool any_element(std::string_view value, F f)
{
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (f(trim(value.substr(0, comma)))) {
            return true;
        }
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    }
    return false;
}

/// The ETag of the gzip representation: the identity one with a suffix inside the quotes.
std::string gzip_etag(std::string_view etag)
{
    std::string out(etag.substr(0, etag.size() - 1));
    out += "-gzip\"";
    return out;
}

/// A header's lines as one comma-separated value (RFC 9110 section 5.3); nullopt when it is absent.
std::optional<std::string> header_list(const Request& request, field name)
{
    const auto [first, last] = request.equal_range(name);
    if (first == last) {
        return std::nullopt;
    }
    std::string value;
    for (auto it = first; it != last; ++it) {
        value += value.empty() ? "" : ", ";
        value += it->value();
    }
    return value;
}

/// What a write request's If-Match and If-None-Match ask of the stored entry.
Precondition precondition_of(const Request& request)
{
    const auto if_match = header_list(request, field::if_match);
    const auto if_none_match = header_list(request, field::if_none_match);
    return write_precondition(if_match ? std::optional<std::string_view>(*if_match) : std::nullopt,
                              if_none_match ? std::optional<std::string_view>(*if_none_match) : std::nullopt);
}

/// The patch format a Content-Type names (parameters such as charset aside), if any.
std::optional<PatchFormat> patch_format_of(std::string_view content_type)
{
    const auto media_type = trim(content_type.substr(0, content_type.find(';')));
    if (boost::beast::iequals(media_type, "application/merge-patch+json")) {
        return PatchFormat::merge_patch;
    }
    if (boost::beast::iequals(media_type, "application/json-patch+json")) {
        return PatchFormat::json_patch;
    }
    return std::nullopt;
}

}  // namespace

struct App::Call {
    Request request;
    std::string id;  // the {id} path segment, when the route has one
};

struct App::Exchange {
    std::chrono::steady_clock::time_point start;
    std::string request_id;
    std::string method;
    std::string uri;
    std::string peer_ip;
    std::string_view route;  // the matched template; empty when unrouted
    bool head = false;
    bool keep_alive = true;
    unsigned version = 11;
    bool accepts_gzip = false;
    std::string if_none_match;
    std::string error_detail;  // an exception's text, logged for 5xx
    std::string trace_id;      // from a valid traceparent header
    std::string client;        // the token's holder, with auth:
};

std::span<const App::Route> App::routes() noexcept
{
    // HEAD is answered wherever GET is.
    static const std::array<Route, 11> table{{
        {verb::get, "/addresses", &App::list_addresses},
        {verb::post, "/addresses", &App::create_address},
        {verb::get, "/addresses/{id}", &App::get_address},
        {verb::put, "/addresses/{id}", &App::update_address},
        {verb::patch, "/addresses/{id}", &App::patch_address},
        {verb::delete_, "/addresses/{id}", &App::delete_address},
        {verb::get, "/livez", &App::livez},
        {verb::get, "/readyz", &App::readyz},
        {verb::get, "/healthz", &App::readyz},
        {verb::get, "/metrics", &App::get_metrics},
        {verb::get, "/openapi.yaml", &App::get_openapi},
    }};
    return table;
}

std::string_view body_of(const Response& response) noexcept
{
    return response.body().view();
}

bool is_valid_request_id(std::string_view id) noexcept
{
    return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    });
}

std::string reason_phrase(std::string_view message)
{
    std::string reason(message);
    std::replace_if(
        reason.begin(), reason.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }, ' ');
    return reason;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept
{
    return any_element(if_none_match, [etag](std::string_view candidate) {
        if (candidate == "*") {
            return true;
        }
        // Weak comparison, as If-None-Match asks: W/"x" matches "x".
        if (candidate.substr(0, 2) == "W/") {
            candidate.remove_prefix(2);
        }
        return candidate == etag;
    });
}

bool accepts_gzip(std::string_view accept_encoding) noexcept
{
    return any_element(accept_encoding, [](std::string_view element) {
        const auto semicolon = element.find(';');
        const auto coding = trim(element.substr(0, semicolon));
        if (!is_gzip_coding(coding)) {
            return false;
        }
        if (semicolon == std::string_view::npos) {
            return true;
        }
        auto param = trim(element.substr(semicolon + 1));
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            param.remove_prefix(2);
            return std::any_of(param.begin(), param.end(), [](char c) { return c >= '1' && c <= '9'; });
        }
        return true;
    });
}

namespace {

/// Each route template once, in the order of the table.
std::vector<std::string_view> route_templates()
{
    std::vector<std::string_view> templates;
    for (const auto& route : App::routes()) {
        if (std::find(templates.begin(), templates.end(), route.path) == templates.end()) {
            templates.push_back(route.path);
        }
    }
    return templates;
}

/// The template a path matches, or empty.
std::string_view matched_template(std::string_view path) noexcept
{
    const auto routed = strip_trailing_slash(strip_query(path));
    for (const auto& route : App::routes()) {
        std::string_view id;
        if (match_template(route.path, routed, id)) {
            return route.path;
        }
    }
    return {};
}

}  // namespace

App::App(AddressService& service, Logger& logger, AppOptions options)
    : service_(service),
      logger_(logger),
      options_(std::move(options)),
      access_(options_.auth ? std::optional<AccessControl>(std::in_place, *options_.auth) : std::nullopt),
      metrics_(route_templates(), version),
      random_(std::random_device{}())
{
}

std::string App::new_request_id()
{
    std::string id;
    id.reserve(32);
    append_hex(id, random_(), 16);
    append_hex(id, random_(), 16);
    return id;
}

const std::string& App::http_date()
{
    const auto now = std::chrono::system_clock::now();
    const auto second = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (second != date_second_) {
        date_second_ = second;
        const std::time_t t = second;
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::array<char, 64> buffer{};
        const auto size = std::strftime(buffer.data(), buffer.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date_text_.assign(buffer.data(), size);
    }
    return date_text_;
}

void App::describe(Exchange& exchange, const Request& request)
{
    const auto client_id = request["X-Request-ID"];
    exchange.request_id = is_valid_request_id(client_id) ? std::string(client_id) : new_request_id();
    exchange.method = std::string(request.method_string());
    exchange.uri = std::string(target_path(request.target()));
    exchange.head = request.method() == verb::head;
    exchange.keep_alive = request.keep_alive();
    exchange.version = request.version();
    exchange.accepts_gzip = accepts_gzip(request[field::accept_encoding]);
    exchange.if_none_match = std::string(request[field::if_none_match]);
    if (const auto trace_id = trace_id_of(request["traceparent"])) {
        exchange.trace_id = std::string(*trace_id);
    }

    if (logger_.enabled(LogLevel::debug)) {
        LogFields fields;
        fields.add("req_id", exchange.request_id)
            .add("method", exchange.method)
            .add("uri", exchange.uri)
            .add("ip", exchange.peer_ip)
            .add("message", "REQUEST");
        logger_.log(LogLevel::debug, fields);
    }
}

void App::authorize(Exchange& exchange, const Request& request, std::string_view path) const
{
    if (!access_) {
        return;
    }
    const auto decision = access_->decide(request.method(), path, request);
    if (decision.client != nullptr) {
        exchange.client = decision.client->name;
    }
    if (decision.verdict == Verdict::unauthorized) {
        throw AccessDenied{Status::unauthorized};
    }
    if (decision.verdict == Verdict::forbidden) {
        throw AccessDenied{Status::forbidden};
    }
}

void App::reload(std::string_view signal) noexcept
{
    try {
        LogFields fields;
        fields.add("message", "RELOAD").add("signal", signal);
        if (!access_) {
            fields.add("reloaded", "nothing");
            logger_.info(fields);
            return;
        }
        try {
            const auto tokens = access_->reload();
            fields.add("reloaded", "tokens")
                .add("tokens_file", access_->tokens_file())
                .add("tokens", static_cast<std::int64_t>(tokens));
            logger_.info(fields);
        } catch (const ConfigError& e) {
            fields.add("reloaded", "nothing").add("error", std::string(e.what()) + " (the tokens read before stay)");
            logger_.log(LogLevel::error, fields);
        }
    } catch (...) {
        // Out of memory: the line is lost, the tokens in force stay.
    }
}

Task<Response> App::handle(Request request, std::string peer_ip)
{
    Exchange exchange;
    exchange.start = std::chrono::steady_clock::now();
    metrics_.request_started();
    exchange.peer_ip = std::move(peer_ip);
    exchange.version = request.version();

    Response response;
    try {
        describe(exchange, request);

        // Route: the first entry whose template and method match; a template match alone is a 405.
        // The path is the exchange's own copy (the request is moved into the handler below), with escaped
        // letters and digits decoded when there are any: /addresses/pa%74 is /addresses/pat.
        const std::string decoded =
            exchange.uri.find('%') == std::string::npos ? std::string() : decode_unreserved(exchange.uri);
        const auto routed_path = strip_trailing_slash(decoded.empty() ? exchange.uri : decoded);
        const auto method = exchange.head ? verb::get : request.method();
        const Route* found = nullptr;
        std::string id;
        std::string allow;
        for (const auto& entry : routes()) {
            std::string_view candidate_id;
            if (!match_template(entry.path, routed_path, candidate_id)) {
                continue;
            }
            exchange.route = entry.path;
            if (entry.method == method) {
                found = &entry;
                id = candidate_id;
                break;
            }
            allow += allow.empty() ? "" : ", ";
            allow += beast_http::to_string(entry.method);
            if (entry.method == verb::get) {
                allow += ", HEAD";
            }
        }
        authorize(exchange, request, routed_path);
        if (found == nullptr) {
            if (exchange.route.empty()) {
                throw HttpError{Status::not_found, "Unknown Endpoint", {}};
            }
            throw HttpError{Status::method_not_allowed, "Method Not Allowed", std::move(allow)};
        }

        // A gzip request body is inflated here, its inflated size bounded like any body.
        const auto encoding = trim(request[field::content_encoding]);
        if (!encoding.empty() && !boost::beast::iequals(encoding, "identity")) {
            if (!is_gzip_coding(encoding)) {
                throw UnsupportedContentCoding{};
            }
            std::optional<std::string> inflated;
            try {
                inflated = gzip_decompress(request.body(), options_.max_body_bytes);
            } catch (const GzipError& e) {
                throw InvalidJsonError(std::string("gzip body: ") + e.what());
            }
            if (!inflated) {
                throw HttpError{Status::payload_too_large, "Payload Too Large", {}};
            }
            request.body() = std::move(*inflated);
        }

        // A named Call, moved in: g++ 12 mishandles a braced temporary as a coroutine argument.
        Call call{std::move(request), std::move(id)};
        const Handler handler = found->handler;
        response = co_await (this->*handler)(std::move(call));
    } catch (...) {
        response = error_response(exchange);
    }
    complete(response, exchange);
    co_return response;
}

void App::complete(Response& response, Exchange& exchange) noexcept
{
    try {
        finish(response, exchange);
    } catch (...) {
        // Finishing failed (a header value too long for a field, say): a server fault like any other.
        response = error_response(exchange);
        try {
            finish(response, exchange);
        } catch (...) {
            response = bare_internal_error(exchange.version);
        }
    }
    record(exchange, response);
}

Response App::error_response(Exchange& exchange) noexcept
{
    try {
        return error_for_current_exception(exchange);
    } catch (...) {
        return bare_internal_error(exchange.version);
    }
}

Response App::bare_internal_error(unsigned version) noexcept
{
    Response response{Status::internal_server_error, version};
    try {
        response.content_length(0);
        response.keep_alive(false);
    } catch (...) {
        // Out of memory: the status line is all there is to send.
    }
    return response;
}

// The one place where errors become status codes.
Response App::error_for_current_exception(Exchange& exchange)
{
    auto& detail = exchange.error_detail;
    try {
        throw;
    } catch (const HttpError& e) {
        Response response = make_error(exchange, e.status, e.message);
        if (!e.allow.empty()) {
            response.set(field::allow, e.allow);
        }
        return response;
    } catch (const AccessDenied& e) {
        const bool unauthorized = e.status == Status::unauthorized;
        Response response = make_error(exchange, e.status, unauthorized ? "Unauthorized" : "Forbidden");
        if (unauthorized) {
            response.set(field::www_authenticate, R"(Bearer realm="addrservice")");
        }
        return response;
    } catch (const InvalidJsonError& e) {
        detail = e.what();
        return make_error(exchange, Status::bad_request, "Invalid JSON body", nullptr, e.what());
    } catch (const SchemaValidationError& e) {
        nlohmann::ordered_json errors = nlohmann::ordered_json::array();
        for (const auto& violation : e.violations()) {
            errors.push_back({{"pointer", violation.pointer}, {"message", violation.message}});
        }
        return make_error(exchange, Status::bad_request, "JSON Schema validation failed", &errors, e.what());
    } catch (const NotFoundError& e) {
        return make_error(exchange, Status::not_found, e.what(), nullptr, e.what());
    } catch (const StoreUnavailableError& e) {
        // The store reconnects by itself: the client may try again shortly.
        detail = e.what();
        Response response = make_error(exchange, Status::service_unavailable, "Store unavailable", nullptr, e.what());
        response.set(field::retry_after, "1");
        return response;
    } catch (const InvalidQueryError& e) {
        nlohmann::ordered_json errors = nlohmann::ordered_json::array();
        for (const auto& problem : e.problems()) {
            errors.push_back({{"parameter", problem.parameter}, {"message", problem.message}});
        }
        return make_error(exchange, Status::bad_request, "Invalid query parameter", &errors);
    } catch (const PreconditionFailedError& e) {
        Response response = make_error(exchange, Status::precondition_failed, "Precondition Failed");
        response.set(field::etag, e.current_etag());
        return response;
    } catch (const PatchConflictError& e) {
        return make_error(exchange, Status::conflict, "Conflict", nullptr, e.what());
    } catch (const EntryTooLargeError& e) {
        return make_error(exchange, Status::payload_too_large, "Payload Too Large", nullptr, e.what());
    } catch (const UnsupportedContentCoding&) {
        Response response = make_error(exchange, Status::unsupported_media_type, "Unsupported Media Type");
        response.set(field::accept_encoding, "gzip");
        return response;
    } catch (const UnsupportedPatchType&) {
        Response response = make_error(exchange, Status::unsupported_media_type, "Unsupported Media Type");
        response.set("Accept-Patch", accept_patch);
        return response;
    } catch (const std::exception& e) {
        detail = e.what();
        return make_error(exchange, Status::internal_server_error, "Internal Server Error", nullptr, e.what());
    } catch (...) {
        detail = "unknown exception";
        return make_error(exchange, Status::internal_server_error, "Internal Server Error", nullptr,
                          "unknown exception");
    }
}

Response App::make_error(const Exchange& exchange, Status status, std::string_view message,
                         const nlohmann::ordered_json* errors, std::string_view trace) const
{
    // The body's message is the status line's reason, character for character.
    const auto reason = reason_phrase(message);
    nlohmann::ordered_json body = {
        {"method", exchange.method},
        {"uri", exchange.uri},
        {"code", static_cast<unsigned>(status)},
        {"message", reason},
    };
    if (errors != nullptr) {
        body["errors"] = *errors;
    }
    if (options_.debug && !trace.empty()) {
        body["trace"] = trace;
    }
    Response response{status, exchange.version};
    response.reason(reason);
    response.set(field::content_type, json_type);
    response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

namespace {

/// Replaces the body with its gzip and says so.
void gzip_body(Response& response)
{
    response.body() = gzip_compress(body_of(response));
    response.set(field::content_encoding, "gzip");
}

}  // namespace

void App::finish(Response& response, const Exchange& exchange)
{
    response.version(exchange.version);
    response.set(field::date, http_date());
    response.set(field::server, std::string("addrservice/") + version);
    response.set("X-Request-ID", exchange.request_id);
    response.keep_alive(exchange.keep_alive);

    const auto status = response.result();
    if (status == Status::ok && response.count(field::etag) != 0) {
        const bool gzip = exchange.accepts_gzip && body_of(response).size() >= gzip_min_bytes;
        response.set(field::vary, "Accept-Encoding");
        if (gzip) {
            response.set(field::etag, gzip_etag(response[field::etag]));
        }
        if (!exchange.if_none_match.empty() && etag_matches(exchange.if_none_match, response[field::etag])) {
            response.result(Status::not_modified);
            response.erase(field::content_type);
            response.body().clear();
            return;  // 304: no body and no Content-Length
        }
        if (gzip) {
            gzip_body(response);
        }
    } else if (exchange.accepts_gzip && !response.body().stream() && response[field::content_type] == json_type &&
               body_of(response).size() >= gzip_min_bytes) {
        // Any other JSON body as large (an error listing many problems), gzipped alike.
        gzip_body(response);
        response.set(field::vary, "Accept-Encoding");
    }
    if (response.body().stream()) {
        // Written as it is read, so its length is not known: chunked in HTTP/1.1; in HTTP/1.0 the end of
        // the connection ends the body. Never gzipped.
        if (exchange.version >= 11) {
            response.set(field::transfer_encoding, "chunked");
        } else {
            response.keep_alive(false);
        }
        if (exchange.head) {
            response.body().clear();  // the connection writes the header block alone
        }
        return;
    }
    if (status == Status::no_content) {
        response.body().clear();
        return;
    }
    response.content_length(body_of(response).size());
    if (exchange.head) {
        response.body().clear();  // Content-Length stays that of the GET body
    }
}

void App::record(const Exchange& exchange, const Response& response) noexcept
{
    const auto code = static_cast<unsigned>(response.result());
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - exchange.start;
    try {
        metrics_.request_finished(exchange.method, metrics_.route_index(exchange.route), code, elapsed.count());
        log_response(exchange, response, code, elapsed.count());
    } catch (...) {
        // Out of memory: a count or a log line is lost, never the response.
    }
}

void App::log_response(const Exchange& exchange, const Response& response, unsigned code, double seconds)
{
    const auto level = code >= 500 ? LogLevel::error : code >= 400 ? LogLevel::warning : LogLevel::info;
    if (!logger_.enabled(level)) {
        return;
    }
    LogFields fields;
    fields.add("req_id", exchange.request_id)
        .add("method", exchange.method)
        .add("uri", exchange.uri)
        .add("ip", exchange.peer_ip)
        .add("message", "RESPONSE")
        .add("status", code)
        .add("time_ms", seconds * 1000);
    if (!exchange.client.empty()) {
        fields.add("client", exchange.client);
    }
    if (code >= 400) {
        fields.add("reason", response.reason());
    }
    if (!exchange.error_detail.empty()) {
        fields.add("error", exchange.error_detail);
    }
    if (!exchange.trace_id.empty()) {
        fields.add("trace_id", exchange.trace_id);
    }
    logger_.log(level, fields);
}

Response App::reject(const RejectedRequest& request, Status status, std::string_view message) noexcept
{
    Exchange exchange;
    exchange.start = std::chrono::steady_clock::now();
    metrics_.request_started();
    exchange.version = request.version;
    exchange.keep_alive = false;
    Response response;
    try {
        exchange.request_id = is_valid_request_id(request.request_id) ? request.request_id : new_request_id();
        exchange.method = request.method;
        exchange.uri = std::string(target_path(request.uri));
        exchange.route = matched_template(exchange.uri);
        exchange.peer_ip = request.peer_ip;
        response = make_error(exchange, status, message);
    } catch (...) {
        response = error_response(exchange);
    }
    complete(response, exchange);
    return response;
}

// Handlers: one AddressService call each.

Task<Response> App::list_addresses(Call call)
{
    auto query = parse_list_query(call.request.target(), service_.options().max_page);
    const auto limit = query.limit;
    const auto list = co_await service_.list(std::move(query));
    Response response{Status::ok, call.request.version()};
    response.set(field::content_type, json_type);
    if (list.next_after && limit) {
        response.set(field::link, "<" + next_page_target(*limit, *list.next_after) + R"(>; rel="next")");
    }
    if (list.stream) {
        response.body() = list.stream;  // a long list, sent as it is read: no ETag
        co_return response;
    }
    response.set(field::etag, list.body->etag);
    response.body() = list.body;
    co_return response;
}

Task<Response> App::create_address(Call call)
{
    const auto id = co_await service_.create(std::move(call.request.body()));
    Response response{Status::created, call.request.version()};
    response.set(field::location, "/addresses/" + id);
    co_return response;
}

Task<Response> App::get_address(Call call)
{
    const auto entry = co_await service_.get(std::move(call.id));
    Response response{Status::ok, call.request.version()};
    response.set(field::content_type, json_type);
    response.set(field::etag, entry->etag);
    response.body() = entry;
    co_return response;
}

Task<Response> App::update_address(Call call)
{
    const auto location = "/addresses/" + call.id;
    auto precondition = precondition_of(call.request);
    const auto result =
        co_await service_.update(std::move(call.id), std::move(call.request.body()), std::move(precondition));
    Response response{result.created ? Status::created : Status::no_content, call.request.version()};
    if (result.created) {
        response.set(field::location, location);
    }
    response.set(field::etag, result.etag);
    co_return response;
}

Task<Response> App::patch_address(Call call)
{
    const auto format = patch_format_of(call.request[field::content_type]);
    if (!format) {
        throw UnsupportedPatchType{};
    }
    auto precondition = precondition_of(call.request);
    const auto etag =
        co_await service_.patch(std::move(call.id), *format, std::move(call.request.body()), std::move(precondition));
    Response response{Status::no_content, call.request.version()};
    response.set(field::etag, etag);
    co_return response;
}

Task<Response> App::delete_address(Call call)
{
    auto precondition = precondition_of(call.request);
    co_await service_.remove(std::move(call.id), std::move(precondition));
    co_return Response{Status::no_content, call.request.version()};
}

Task<Response> App::livez(Call call)
{
    Response response{Status::ok, call.request.version()};
    response.set(field::content_type, json_type);
    response.body() = R"({"status":"ok"})";
    co_return response;
}

Task<Response> App::readyz(Call call)
{
    bool ready = !draining_;
    if (ready) {
        try {
            ready = co_await service_.ready();
        } catch (const std::exception&) {
            ready = false;
        }
    }
    if (!ready) {
        throw HttpError{Status::service_unavailable, "Service Unavailable", {}};
    }
    co_return co_await livez(std::move(call));
}

Task<Response> App::get_metrics(Call call)
{
    Response response{Status::ok, call.request.version()};
    response.set(field::content_type, metrics_content_type);
    response.body() = metrics_.render(service_.store().size());
    co_return response;
}

Task<Response> App::get_openapi(Call call)
{
    Response response{Status::ok, call.request.version()};
    response.set(field::content_type, "application/yaml");
    response.body() = embedded_openapi_text();
    co_return response;
}

}  // namespace addrservice::http
