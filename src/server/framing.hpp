#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace addrservice::http {

/// Why a request's head cannot be served: the answer's status and message. The connection closes after it.
struct FramingProblem {
    boost::beast::http::status status;
    std::string_view message;
};

/// Checks a request's head before its body is read: its framing (RFC 9112 section 6), since where the body
/// ends must be certain or the bytes after it could be taken for another request, and its Host (section
/// 3.2). A Transfer-Encoding whose final coding is not chunked, in HTTP/1.0, or beside a Content-Length; a
/// Content-Length given twice or as a list; a missing (HTTP/1.1), repeated or invalid Host: 400. Another
/// coding before chunked: 501. A few lookups in the parsed fields, no allocation.
std::optional<FramingProblem> framing_problem(const boost::beast::http::request_header<>& head) noexcept;

/// How many bytes of empty lines (CR and LF) input starts with. A server ignores empty lines before a request
/// line (RFC 9112 section 2.2), such as the CRLF some clients send after a request's body.
std::size_t leading_empty_lines(std::string_view input) noexcept;

/// True when input holds a line feed that no carriage return comes before. Where the parser waits for more of
/// a chunked body's protocol lines (a chunk's size line, the trailer fields), every line must end in CRLF
/// (RFC 9112 section 7.1): Beast looks for the CR and would wait for it until the request timeout.
bool has_bare_line_feed(std::string_view input) noexcept;

/// True when input holds a control character other than HTAB (0x00-0x1F, 0x7F), which neither a field value
/// nor a chunk extension may hold (RFC 9110 section 5.5, RFC 9112 section 7.1.1).
bool has_control_character(std::string_view input) noexcept;

/// True when a Host field value is uri-host [":" port] (RFC 9112 section 3.2); empty is valid.
bool is_valid_host(std::string_view host) noexcept;

/// The path of a request target, without the query: of an origin-form target ("/addresses?limit=5") or
/// of an absolute-form one ("http://host/addresses", "/" when its path is empty; RFC 9112 section 3.2.2).
std::string_view target_path(std::string_view target) noexcept;

/// The path with its percent-encoded unreserved characters decoded (letters, digits, '-', '.', '_', '~':
/// "/addresses/pa%74" is "/addresses/pat", RFC 3986 section 6.2.2.2); any other escape stays as it is.
std::string decode_unreserved(std::string_view path);

}  // namespace addrservice::http
