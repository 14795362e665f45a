#include "checks.hpp"
#include "logfmt_reader.hpp"

#include "addrservice/address_service.hpp"
#include "addrservice/config.hpp"
#include "addrservice/logging.hpp"
#include "addrservice/store/memory_store.hpp"
#include "server/app.hpp"
#include "server/framing.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace addrservice::fuzz {

namespace {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using http::Request;
using http::Response;
using http::Status;
using Parser = beast_http::request_parser<beast_http::string_body>;

constexpr std::string_view peer_ip = "192.0.2.1";
constexpr std::string_view json_type = "application/json; charset=UTF-8";

/// What the check needs to know of a request once the app has taken it.
struct Sent {
    std::string method;
    std::string target;
    std::string request_id;
    unsigned version = 11;
    bool head = false;
    bool rejected = false;  // answered by App::reject, as the server answers what it cannot read
};

/// The statuses the contract gives this configuration (a memory store, no auth, no PATCH); anything
/// else, a 500 above all, is a finding.
bool is_expected_status(unsigned code)
{
    static constexpr std::array<unsigned, 11> expected{200, 201, 204, 304, 400, 404, 405, 413, 415, 431, 501};
    return std::find(expected.begin(), expected.end(), code) != expected.end();
}

bool is_lower_hex(std::string_view text, std::size_t size)
{
    return text.size() == size && std::all_of(text.begin(), text.end(),
                                              [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool has_line_break_or_nul(std::string_view text)
{
    return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool is_valid_utf8(const std::string& text)
{
    try {
        static_cast<void>(nlohmann::json(text).dump());
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

/// The server of every input: an app over a memory store, logging every line (DEBUG and up) to a string
/// the check reads back. Made once (the schema is parsed once, as in the service); each input starts
/// with an empty store.
class Harness {
public:
    Harness()
        : store_(std::make_shared<MemoryStore>()),
          service_(store_),
          logger_(log_config(), log_),
          app_(service_, logger_, {})
    {
    }

    /// Reads the requests of input one after the other, as a connection of the server does.
    void serve(std::string_view input)
    {
        empty_store();
        log_.str({});
        do {
            if (!serve_one(input)) {
                return;
            }
        } while (!input.empty());
    }

private:
    static LoggingConfig log_config()
    {
        LoggingConfig config;
        config.level = LogLevel::debug;
        config.console = ConsoleFormat::detailed;
        config.async = false;
        return config;
    }

    void empty_store()
    {
        boost::asio::io_context io;
        boost::asio::co_spawn(io, remove_all(store_), boost::asio::detached);
        io.run();
    }

    static Task<void> remove_all(std::shared_ptr<MemoryStore> store)
    {
        for (const auto& [id, entry] : co_await store->list()) {
            co_await store->remove(id);
        }
    }

    [[noreturn]] void fail(const std::string& what, const Sent& sent, const Response* response = nullptr) const
    {
        std::ostringstream out;
        out << "http: " << what << "\n  request: " << sent.method << ' ' << sent.target;
        if (response != nullptr) {
            out << "\n  response: " << response->result_int() << ' ' << response->reason();
            for (const auto& field : *response) {
                out << "\n    " << field.name_string() << ": " << field.value();
            }
            out << "\n    " << http::body_of(*response).substr(0, 500);
        }
        throw Finding(out.str());
    }

    /// Feeds the parser from input until done() holds, as Beast's read does from a socket whose peer
    /// sent input and then closed; the bytes it takes are removed from input.
    template <typename Done>
    static beast::error_code read(Parser& parser, std::string_view& input, Done done)
    {
        beast::error_code ec;
        while (!done()) {
            if (!parser.got_some()) {
                input.remove_prefix(http::leading_empty_lines(input));
            }
            std::size_t used = 0;
            if (!input.empty()) {
                used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
                input.remove_prefix(used);
                if (ec && ec != beast_http::error::need_more) {
                    return ec;
                }
                ec = {};
            }
            if (used == 0) {
                // The bytes left cannot complete the message and no more will come: the peer has closed.
                if (parser.got_some()) {
                    parser.put_eof(ec);
                } else {
                    ec = beast_http::error::end_of_stream;
                }
                input = {};
                return ec;
            }
        }
        return ec;
    }

    /// What the server knows of a request it rejects (Server's rejected()).
    static Sent rejected(const Parser& parser)
    {
        const auto& header = parser.get();
        return {std::string(header.method_string()),
                std::string(header.target()),
                std::string(header["X-Request-ID"]),
                header.version() == 10 ? 10U : 11U,
                false,
                true};
    }

    /// One request: read, answered, checked. False when the connection would close.
    bool serve_one(std::string_view& input)
    {
        const Limits limits;  // the server's defaults
        Parser parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        parser.body_limit(limits.max_body_bytes);
        auto ec = read(parser, input, [&parser] { return parser.is_header_done(); });
        if (ec == beast_http::error::header_limit) {
            return reject(rejected(parser), Status::request_header_fields_too_large, "Request Header Fields Too Large");
        }
        if (ec == beast_http::error::body_limit) {
            return reject(rejected(parser), Status::payload_too_large, "Payload Too Large");
        }
        if (ec == beast_http::error::end_of_stream || ec == beast_http::error::partial_message) {
            return false;
        }
        if (ec) {
            return reject(rejected(parser), Status::bad_request, "Bad Request");
        }
        if (const auto problem = http::framing_problem(parser.get())) {
            return reject(rejected(parser), problem->status, problem->message);
        }
        if (const auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
            return reject(rejected(parser), Status::payload_too_large, "Payload Too Large");
        }
        parser.eager(true);
        ec = read(parser, input, [&parser] { return parser.is_done(); });
        if (ec == beast_http::error::body_limit) {
            return reject(rejected(parser), Status::payload_too_large, "Payload Too Large");
        }
        if (ec == beast_http::error::end_of_stream || ec == beast_http::error::partial_message) {
            return false;
        }
        if (ec) {
            return reject(rejected(parser), Status::bad_request, "Bad Request");
        }

        Sent sent = rejected(parser);
        sent.rejected = false;
        sent.head = parser.get().method() == beast_http::verb::head;
        auto response = handle(parser.release(), sent);
        check(sent, response);
        return response.keep_alive();
    }

    Response handle(Request request, const Sent& sent)
    {
        boost::asio::io_context io;
        std::optional<Response> response;
        std::exception_ptr error;
        boost::asio::co_spawn(io, app_.handle(std::move(request), std::string(peer_ip)),
                              [&](std::exception_ptr e, Response r) {
                                  error = std::move(e);
                                  response = std::move(r);
                              });
        io.run();
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                fail(std::string("App::handle threw: ") + e.what(), sent);
            } catch (...) {
                fail("App::handle threw", sent);
            }
        }
        if (!response) {
            fail("App::handle did not finish", sent);
        }
        return std::move(*response);
    }

    bool reject(const Sent& sent, Status status, std::string_view message)
    {
        http::RejectedRequest request;
        request.method = sent.method;
        request.uri = sent.target;
        request.peer_ip = std::string(peer_ip);
        request.request_id = sent.request_id;
        request.version = sent.version;
        const auto response = app_.reject(request, status, message);
        check(sent, response);
        if (response.keep_alive()) {
            fail("a rejected request leaves the connection open", sent, &response);
        }
        return false;
    }

    void check(const Sent& sent, const Response& response)
    {
        check_head(sent, response);
        if (response.result_int() >= 400 && !sent.head) {
            check_error_body(sent, response);
        }
        check_log(sent, response);
    }

    void check_head(const Sent& sent, const Response& response) const
    {
        const auto code = response.result_int();
        if (!is_expected_status(code)) {
            fail("unexpected status " + std::to_string(code), sent, &response);
        }
        if (response.reason().empty() || has_line_break_or_nul(response.reason())) {
            fail("a reason phrase that is empty or breaks the status line", sent, &response);
        }
        for (const auto& field : response) {
            if (field.name_string().empty() || has_line_break_or_nul(field.name_string()) ||
                has_line_break_or_nul(field.value())) {
                fail("a header field that breaks the header block", sent, &response);
            }
        }
        for (const auto name : {beast_http::field::date, beast_http::field::server}) {
            if (response.count(name) != 1) {
                fail("not exactly one " + std::string(beast_http::to_string(name)) + " field", sent, &response);
            }
        }
        if (response.count("X-Request-ID") != 1) {
            fail("not exactly one X-Request-ID field", sent, &response);
        }
        const auto request_id = response["X-Request-ID"];
        if (http::is_valid_request_id(sent.request_id) ? request_id != sent.request_id
                                                       : !is_lower_hex(request_id, 32)) {
            fail("X-Request-ID is neither the client's valid one nor 32 new hex digits", sent, &response);
        }

        const auto body = http::body_of(response);
        const bool bodiless = code / 100 == 1 || code == 204 || code == 304;
        if (bodiless) {
            if (response.count(beast_http::field::content_length) != 0 || !body.empty()) {
                fail("a 1xx, 204 or 304 with a Content-Length or a body", sent, &response);
            }
        } else {
            if (response.count(beast_http::field::content_length) != 1) {
                fail("not exactly one Content-Length", sent, &response);
            }
            const auto length = response[beast_http::field::content_length];
            if (sent.head) {
                if (!body.empty()) {
                    fail("a body in the response to HEAD", sent, &response);
                }
            } else if (length != std::to_string(body.size())) {
                fail("Content-Length " + std::string(length) + " for a body of " + std::to_string(body.size()) +
                         " bytes",
                     sent, &response);
            }
        }
        if (code == 201) {
            const auto location = response[beast_http::field::location];
            constexpr std::string_view prefix = "/addresses/";
            if (location.substr(0, prefix.size()) != prefix || !is_lower_hex(location.substr(prefix.size()), 32)) {
                fail("a 201 whose Location is not /addresses/ and 32 hex digits", sent, &response);
            }
        }
    }

    void check_error_body(const Sent& sent, const Response& response) const
    {
        const auto code = response.result_int();
        if (response[beast_http::field::content_type] != json_type) {
            fail("an error without the JSON Content-Type", sent, &response);
        }
        const auto body = nlohmann::json::parse(http::body_of(response), nullptr, false);
        if (!body.is_object()) {
            fail("an error body that is not a JSON object", sent, &response);
        }
        for (const auto& [key, value] : body.items()) {
            if (key != "method" && key != "uri" && key != "code" && key != "message" && key != "errors") {
                fail("an error body with the key '" + key + "'", sent, &response);
            }
        }
        if (!body.contains("method") || !body["method"].is_string() || !body.contains("uri") ||
            !body["uri"].is_string() || !body.contains("message") || !body["message"].is_string() ||
            !body.contains("code") || !body["code"].is_number_unsigned()) {
            fail("an error body without method, uri, code and message", sent, &response);
        }
        if (body["code"].get<unsigned>() != code || body["message"].get<std::string>() != response.reason()) {
            fail("an error body whose code or message is not the status line's", sent, &response);
        }
        // The uri an error names is the path the request was routed by (an absolute-form target's path).
        const auto uri = std::string(http::target_path(sent.target));
        if ((is_valid_utf8(sent.method) && body["method"] != sent.method) ||
            (is_valid_utf8(uri) && body["uri"] != uri)) {
            fail("an error body whose method or uri is not the request's", sent, &response);
        }
        const bool schema_failure = response.reason() == "JSON Schema validation failed";
        if (body.contains("errors") != schema_failure) {
            fail("errors on a failure other than the schema's, or a schema failure without them", sent, &response);
        }
        if (schema_failure) {
            const auto& errors = body["errors"];
            if (!errors.is_array() || errors.empty()) {
                fail("a schema failure whose errors are not a list of violations", sent, &response);
            }
            for (const auto& error : errors) {
                if (!error.is_object() || error.size() != 2 || !error.contains("pointer") ||
                    !error["pointer"].is_string() || !error.contains("message") || !error["message"].is_string()) {
                    fail("a violation that is not {pointer, message}", sent, &response);
                }
            }
        }
    }

    /// Every line logged reads back as logfmt, and the one RESPONSE line says what happened.
    void check_log(const Sent& sent, const Response& response)
    {
        const auto text = log_.str();
        log_.str({});
        std::size_t response_lines = 0;
        std::string_view rest = text;
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            if (end == std::string_view::npos) {
                fail("a log line without its line end", sent, &response);
            }
            const auto line = rest.substr(0, end);
            rest.remove_prefix(end + 1);
            const auto fields = read_log_line(line);
            if (!fields) {
                fail("a log line that is not logfmt: " + std::string(line), sent, &response);
            }
            auto value = [&fields](std::string_view key) -> std::optional<std::string> {
                for (const auto& [name, field] : *fields) {
                    if (name == key) {
                        return field.text;
                    }
                }
                return std::nullopt;
            };
            if (value("message") != "RESPONSE") {
                continue;
            }
            ++response_lines;
            // The log names the path the request was routed by: an absolute-form target's path.
            const auto path = std::string(http::target_path(sent.target));
            const auto uri = path.substr(0, path.find('?'));
            if (value("req_id") != response["X-Request-ID"] || value("method") != sent.method ||
                value("uri") != as_logged(uri) || value("status") != std::to_string(response.result_int())) {
                fail("a RESPONSE line that does not say what happened: " + std::string(line), sent, &response);
            }
        }
        if (response_lines != 1) {
            fail(std::to_string(response_lines) + " RESPONSE lines for one request", sent, &response);
        }
    }

    std::shared_ptr<MemoryStore> store_;
    std::ostringstream log_;
    AddressService service_;
    Logger logger_;
    http::App app_;
};

}  // namespace

void check_http(std::string_view input)
{
    static Harness harness;
    harness.serve(input);
}

}  // namespace addrservice::fuzz
