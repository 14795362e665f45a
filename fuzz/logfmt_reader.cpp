#include "logfmt_reader.hpp"

#include <charconv>

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
                // \u00XX: one byte, as the writer escapes a control character.
                unsigned code = 0;
                if (i + 4 > line.size() || line.substr(i, 2) != "00") {
                    return std::nullopt;
                }
                const auto* begin = line.data() + i + 2;
                const auto [end, error] = std::from_chars(begin, begin + 2, code, 16);
                if (error != std::errc() || end != begin + 2) {
                    return std::nullopt;
                }
                text += static_cast<char>(code);
                i += 4;
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return std::nullopt;  // no closing quote
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

}  // namespace addrservice::fuzz
