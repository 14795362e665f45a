#include "logfmt_reader.hpp"

#include <charconv>
#include <cstdint>

namespace addrservice::fuzz {

namespace {

bool is_key_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

bool is_control(char c) noexcept
{
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

/// Reads a quoted string starting at line[0] == '"'; on success removes it from line.
std::optional<std::string> read_quoted(std::string_view& line)
{
    std::string text;
    std::size_t i = 1;
    while (i < line.size()) {
        const char c = line[i];
        if (c == '"') {
            line.remove_prefix(i + 1);
            return text;
        }
        if (is_control(c)) {
            return std::nullopt;  // the writer escapes every control character
        }
        if (c != '\\') {
            text += c;
            ++i;
            continue;
        }
        if (i + 1 >= line.size()) {
            return std::nullopt;
        }
        const char escape = line[i + 1];
        i += 2;
        switch (escape) {
            case '"':
            case '\\':
                text += escape;
                break;
            case 'n':
                text += '\n';
                break;
            case 'r':
                text += '\r';
                break;
            case 't':
                text += '\t';
                break;
            case 'u': {
                // \uXXXX: a control character, or a character some readers take for a line end; as UTF-8.
                unsigned code = 0;
                if (i + 4 > line.size()) {
                    return std::nullopt;
                }
                const auto* begin = line.data() + i;
                const auto [end, error] = std::from_chars(begin, begin + 4, code, 16);
                if (error != std::errc() || end != begin + 4) {
                    return std::nullopt;
                }
                if (code < 0x80) {
                    text += static_cast<char>(code);
                } else if (code < 0x800) {
                    text += static_cast<char>(0xc0 | (code >> 6));
                    text += static_cast<char>(0x80 | (code & 0x3f));
                } else {
                    text += static_cast<char>(0xe0 | (code >> 12));
                    text += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
                    text += static_cast<char>(0x80 | (code & 0x3f));
                }
                i += 4;
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return std::nullopt;  // no closing quote
}

/// The length of the UTF-8 sequence text starts with, decoded and checked by its code point (no overlong
/// form, no surrogate, nothing past U+10FFFF), or 0 when it is none.
std::size_t decoded_length(std::string_view text)
{
    const auto lead = static_cast<unsigned char>(text.front());
    const std::size_t size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (size == 0 || lead >= 0xf8 || text.size() < size) {
        return 0;
    }
    std::uint32_t code = lead & (0x7fU >> size);
    for (std::size_t i = 1; i < size; ++i) {
        const auto next = static_cast<unsigned char>(text[i]);
        if ((next & 0xc0U) != 0x80U) {
            return 0;
        }
        code = (code << 6U) | (next & 0x3fU);
    }
    const std::uint32_t least = size == 2 ? 0x80 : size == 3 ? 0x800 : 0x10000;
    if (code < least || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        return 0;
    }
    return size;
}

}  // namespace

std::optional<std::vector<LogfmtField>> read_logfmt(std::string_view line)
{
    std::vector<LogfmtField> fields;
    while (!line.empty()) {
        if (!fields.empty()) {
            if (line.front() != ' ') {
                return std::nullopt;
            }
            line.remove_prefix(1);
        }
        const auto equals = line.find('=');
        if (equals == 0 || equals == std::string_view::npos) {
            return std::nullopt;
        }
        const auto key = line.substr(0, equals);
        for (const char c : key) {
            if (!is_key_char(c)) {
                return std::nullopt;
            }
        }
        line.remove_prefix(equals + 1);
        LogfmtValue value;
        if (!line.empty() && line.front() == '"') {
            auto text = read_quoted(line);
            if (!text) {
                return std::nullopt;
            }
            value = {std::move(*text), true};
        } else {
            const auto token = line.substr(0, line.find(' '));
            for (const char c : token) {
                if (c == '"' || c == '=' || is_control(c)) {
                    return std::nullopt;
                }
            }
            if (token.empty()) {
                return std::nullopt;
            }
            value = {std::string(token), false};
            line.remove_prefix(token.size());
        }
        fields.emplace_back(std::string(key), std::move(value));
    }
    return fields;
}

std::optional<std::vector<LogfmtField>> read_log_line(std::string_view line)
{
    constexpr std::string_view separator = " : ";
    const auto at = line.find(separator);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    return read_logfmt(line.substr(at + separator.size()));
}

/// What a string value reads back as: each byte that starts no UTF-8 sequence replaced by U+FFFD.
std::string as_logged(std::string_view text)
{
    std::string out;
    while (!text.empty()) {
        if (static_cast<unsigned char>(text.front()) < 0x80) {
            out += text.front();
            text.remove_prefix(1);
        } else if (const auto size = decoded_length(text)) {
            out += text.substr(0, size);
            text.remove_prefix(size);
        } else {
            out += "\xEF\xBF\xBD";
            text.remove_prefix(1);
        }
    }
    return out;
}

}  // namespace addrservice::fuzz
