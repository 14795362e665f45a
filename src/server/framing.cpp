#include "server/framing.hpp"

#include "addrservice/hex.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace addrservice::http {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;

namespace {

bool is_alpha(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

bool is_hex_digit(char c) noexcept
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// unreserved / sub-delims of RFC 3986: what a reg-name holds besides percent-escapes.
bool is_host_char(char c) noexcept
{
    static constexpr std::string_view others = "-._~!$&'()*+,;=";
    return is_alpha(c) || is_digit(c) || others.find(c) != std::string_view::npos;
}

/// reg-name (and so an IPv4 address): *( unreserved / pct-encoded / sub-delims ).
bool is_reg_name(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '%') {
            if (i + 2 >= name.size() || !is_hex_digit(name[i + 1]) || !is_hex_digit(name[i + 2])) {
                return false;
            }
            i += 2;
        } else if (!is_host_char(name[i])) {
            return false;
        }
    }
    return true;
}

/// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool is_scheme(std::string_view scheme) noexcept
{
    return !scheme.empty() && is_alpha(scheme.front()) && std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
    });
}

/// True when a Transfer-Encoding value ends in chunked and names it only there: what makes Beast's parser
/// read the body as chunked (it takes the first chunked token, and only when it is the last), so that this
/// check and the parser agree on where the body ends.
bool final_coding_is_chunked(std::string_view codings) noexcept
{
    const beast_http::token_list tokens{codings};
    const auto chunked = std::find_if(tokens.begin(), tokens.end(),
                                      [](std::string_view coding) { return beast::iequals(coding, "chunked"); });
    return chunked != tokens.end() && std::next(chunked) == tokens.end();
}

/// True when every coding of a Transfer-Encoding value is chunked (the only one this server decodes).
bool only_chunked(std::string_view codings) noexcept
{
    const beast_http::token_list tokens{codings};
    return std::all_of(tokens.begin(), tokens.end(),
                       [](std::string_view coding) { return beast::iequals(coding, "chunked"); });
}

/// Transfer-Encoding in HTTP/1.0, beside Content-Length, or whose final coding is not chunked: 400; another
/// coding before chunked: 501.
std::optional<FramingProblem> transfer_coding_problem(const beast_http::request_header<>& head,
                                                      std::size_t content_lengths) noexcept
{
    static constexpr FramingProblem bad_request{beast_http::status::bad_request, "Bad Request"};
    const auto [first, end] = head.equal_range(beast_http::field::transfer_encoding);
    if (first == end) {
        return std::nullopt;
    }
    // The parser takes the first field's codings (a second field after a chunked one is a parse error).
    if (head.version() < 11 || content_lengths != 0 || !final_coding_is_chunked(first->value())) {
        return bad_request;
    }
    for (auto field = first; field != end; ++field) {
        if (!only_chunked(field->value())) {
            return FramingProblem{beast_http::status::not_implemented, "Not Implemented"};
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<FramingProblem> framing_problem(const beast_http::request_header<>& head) noexcept
{
    static constexpr FramingProblem bad_request{beast_http::status::bad_request, "Bad Request"};
    const auto lengths = head.count(beast_http::field::content_length);
    if (lengths > 1 || (lengths == 1 && head[beast_http::field::content_length].find(',') != std::string_view::npos)) {
        return bad_request;
    }
    if (auto problem = transfer_coding_problem(head, lengths)) {
        return problem;
    }
    const auto [first_host, end_of_hosts] = head.equal_range(beast_http::field::host);
    if (first_host == end_of_hosts) {
        return head.version() >= 11 ? std::optional(bad_request) : std::nullopt;
    }
    if (std::next(first_host) != end_of_hosts || !is_valid_host(first_host->value())) {
        return bad_request;
    }
    return std::nullopt;
}

bool is_valid_host(std::string_view host) noexcept
{
    std::string_view port;
    if (host.starts_with('[')) {
        // IP-literal: an IPv6 address or IPvFuture, checked for its alphabet.
        const auto close = host.find(']');
        if (close == std::string_view::npos || close == 1 ||
            !std::all_of(host.begin() + 1, host.begin() + static_cast<std::ptrdiff_t>(close),
                         [](char c) { return is_host_char(c) || c == ':'; })) {
            return false;
        }
        port = host.substr(close + 1);
    } else {
        const auto colon = host.find(':');
        if (!is_reg_name(host.substr(0, colon))) {
            return false;
        }
        port = colon == std::string_view::npos ? std::string_view{} : host.substr(colon);
    }
    // [":" *DIGIT]
    return port.empty() || (port.front() == ':' && std::all_of(port.begin() + 1, port.end(), is_digit));
}

std::string_view target_path(std::string_view target) noexcept
{
    if (!target.starts_with('/')) {
        // absolute-form: scheme "://" authority, then the path, if any.
        const auto scheme_end = target.find("://");
        if (scheme_end != std::string_view::npos && is_scheme(target.substr(0, scheme_end))) {
            const auto rest = target.substr(scheme_end + 3);
            const auto path_start = rest.find_first_of("/?");
            if (path_start == std::string_view::npos || rest[path_start] == '?') {
                return "/";
            }
            target = rest.substr(path_start);
        }
    }
    return target.substr(0, target.find('?'));
}

namespace {

bool is_unreserved(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

}  // namespace

std::string decode_unreserved(std::string_view path)
{
    std::string decoded;
    decoded.reserve(path.size());
    for (std::size_t at = 0; at < path.size(); ++at) {
        if (path[at] == '%' && at + 2 < path.size()) {
            const int high = hex_value(path[at + 1]);
            const int low = hex_value(path[at + 2]);
            if (high >= 0 && low >= 0 && is_unreserved(static_cast<char>(high * 16 + low))) {
                decoded += static_cast<char>(high * 16 + low);
                at += 2;
                continue;
            }
        }
        decoded += path[at];
    }
    return decoded;
}

std::size_t leading_empty_lines(std::string_view input) noexcept
{
    return std::min(input.find_first_not_of("\r\n"), input.size());
}

bool has_control_character(std::string_view input) noexcept
{
    return std::any_of(input.begin(), input.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && c != '\t') || byte == 0x7F;
    });
}

bool has_bare_line_feed(std::string_view input) noexcept
{
    for (auto at = input.find('\n'); at != std::string_view::npos; at = input.find('\n', at + 1)) {
        if (at == 0 || input[at - 1] != '\r') {
            return true;
        }
    }
    return false;
}

}  // namespace addrservice::http
