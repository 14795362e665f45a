#include "addrservice/logfmt.hpp"

#include "addrservice/hex.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace addrservice {

namespace {

void append_number(std::string& out, std::int64_t value)
{
    std::array<char, 24> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

void append_number(std::string& out, double value)
{
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    // Three decimals: enough for milliseconds, and printed the same in every locale. A number too large
    // for that form in the buffer is written in its shortest form instead (1e+300).
    std::array<char, 64> buffer{};
    auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, 3);
    if (result.ec != std::errc()) {
        result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    }
    out.append(buffer.data(), result.ptr);
}

/// A number or a boolean, written the same in logfmt and in JSON.
void append_scalar(std::string& out, const LogFields::Value& value)
{
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        append_number(out, *integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
        append_number(out, *real);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
        out += *flag ? "true" : "false";
    }
}

}  // namespace

namespace {

bool is_plain_key_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

}  // namespace

std::string sanitize_log_key(std::string_view key)
{
    if (!key.empty() && std::all_of(key.begin(), key.end(), is_plain_key_char)) {
        return std::string(key);  // the usual case: a literal key
    }
    std::string out;
    out.reserve(key.size());
    for (const char c : key) {
        out += is_plain_key_char(c) ? c : '_';
    }
    return out.empty() ? "_" : out;
}

namespace {

/// True for the bytes written as they are inside quotes.
bool is_plain_value_byte(char c) noexcept
{
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte != 0x7f && c != '"' && c != '\\';
}

void append_escaped(std::string& out, char c)
{
    switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            out += "\\u00";
            out += hex_digit(static_cast<unsigned char>(c) >> 4U);
            out += hex_digit(static_cast<unsigned char>(c));
    }
}

}  // namespace

void append_logfmt_quoted(std::string& out, std::string_view value)
{
    out += '"';
    // Runs of plain bytes (most values are nothing else) are appended whole.
    auto rest = value;
    while (!rest.empty()) {
        const auto plain =
            static_cast<std::size_t>(std::find_if_not(rest.begin(), rest.end(), is_plain_value_byte) - rest.begin());
        out.append(rest.data(), plain);
        if (plain == rest.size()) {
            break;
        }
        append_escaped(out, rest[plain]);
        rest.remove_prefix(plain + 1);
    }
    out += '"';
}

LogFields& LogFields::add(std::string_view key, std::string_view value)
{
    fields_.emplace_back(sanitize_log_key(key), std::string(value));
    return *this;
}

LogFields& LogFields::add(std::string_view key, std::int64_t value)
{
    fields_.emplace_back(sanitize_log_key(key), value);
    return *this;
}

LogFields& LogFields::add(std::string_view key, double value)
{
    fields_.emplace_back(sanitize_log_key(key), value);
    return *this;
}

LogFields& LogFields::add(std::string_view key, bool value)
{
    fields_.emplace_back(sanitize_log_key(key), value);
    return *this;
}

const LogFields::Value* LogFields::find(std::string_view key) const noexcept
{
    for (const auto& [name, value] : fields_) {
        if (name == key) {
            return &value;
        }
    }
    return nullptr;
}

std::string LogFields::to_logfmt() const
{
    std::string out;
    out.reserve(fields_.size() * 24);
    for (const auto& [key, value] : fields_) {
        if (!out.empty()) {
            out += ' ';
        }
        out += key;
        out += '=';
        if (const auto* text = std::get_if<std::string>(&value)) {
            append_logfmt_quoted(out, *text);
        } else {
            append_scalar(out, value);
        }
    }
    return out;
}

std::string LogFields::to_json_members() const
{
    std::string out;
    for (const auto& [key, value] : fields_) {
        if (!out.empty()) {
            out += ',';
        }
        out += nlohmann::json(key).dump();
        out += ':';
        if (const auto* text = std::get_if<std::string>(&value)) {
            // Invalid UTF-8 (from a raw request path, say) is replaced rather than rejected.
            out += nlohmann::json(*text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
            append_scalar(out, value);
        }
    }
    return out;
}

}  // namespace addrservice
