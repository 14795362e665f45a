#include "addrservice/auth.hpp"

#include "addrservice/config.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

namespace addrservice {

namespace {

constexpr std::string_view tokens_key = "auth.tokens_file";
constexpr std::string_view blanks = " \t";

std::string_view trim(std::string_view text) noexcept
{
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

/// The next blank-separated field of line, removed from it.
std::string_view next_field(std::string_view& line) noexcept
{
    line = trim(line);
    const auto end = std::min(line.find_first_of(blanks), line.size());
    const auto field = line.substr(0, end);
    line.remove_prefix(end);
    return field;
}

std::optional<unsigned> hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') {
        return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return static_cast<unsigned>(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return static_cast<unsigned>(c - 'A' + 10);
    }
    return std::nullopt;
}

/// 64 hex digits (either case) as the 32 bytes they spell.
std::optional<TokenDigest> parse_digest(std::string_view hex) noexcept
{
    TokenDigest digest{};
    if (hex.size() != digest.size() * 2) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < digest.size(); ++i) {
        const auto high = hex_value(hex[2 * i]);
        const auto low = hex_value(hex[2 * i + 1]);
        if (!high || !low) {
            return std::nullopt;
        }
        digest.at(i) = static_cast<unsigned char>((*high << 4U) | *low);
    }
    return digest;
}

bool is_control(char c) noexcept
{
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

/// A bad line of the tokens file: the error names the file and the line, never what the line holds.
[[noreturn]] void bad_line(const std::string& source, std::size_t line_number, std::string_view what,
                           std::string_view hint = {})
{
    std::string message = "config: ";
    message += tokens_key;
    message += ": ";
    message += source;
    message += ':';
    message += std::to_string(line_number);
    message += ": ";
    message += what;
    message += hint;
    throw ConfigError(message);
}

}  // namespace

TokenDigest sha256(std::string_view text)
{
    TokenDigest digest{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != digest.size()) {
        throw std::runtime_error("SHA-256 failed");
    }
    return digest;
}

TokenTable TokenTable::parse(std::string_view text, const std::string& source)
{
    static constexpr std::string_view format = " (a line is \"<read|write> <sha256 hex> <client name>\")";
    TokenTable table;
    std::map<TokenDigest, std::size_t> first_lines;  // where each digest was first seen
    std::size_t line_number = 0;
    while (!text.empty()) {
        const auto end = std::min(text.find('\n'), text.size());
        auto line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        ++line_number;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);  // a file written on Windows
        }
        const auto content = trim(line);
        if (content.empty() || content.front() == '#') {
            continue;
        }
        if (std::any_of(content.begin(), content.end(), [](char c) { return is_control(c) && c != '\t'; })) {
            bad_line(source, line_number, "a control character", format);
        }
        auto rest = content;
        const auto scope_text = next_field(rest);
        const auto digest_text = next_field(rest);
        const auto name = trim(rest);
        Client client;
        if (scope_text == "read") {
            client.scope = Scope::read;
        } else if (scope_text == "write") {
            client.scope = Scope::write;
        } else {
            bad_line(source, line_number, "expected read or write first", format);
        }
        const auto digest = parse_digest(digest_text);
        if (!digest) {
            bad_line(source, line_number, "expected the token's SHA-256 as 64 hex digits second", format);
        }
        if (name.empty()) {
            bad_line(source, line_number, "expected a client name after the SHA-256", format);
        }
        if (const auto [first, added] = first_lines.emplace(*digest, line_number); !added) {
            bad_line(source, line_number, "the same token as line " + std::to_string(first->second));
        }
        client.name = std::string(name);
        table.entries_.push_back(Entry{*digest, std::move(client)});
    }
    return table;
}

TokenTable TokenTable::load(const std::string& path)
{
    return parse(read_small_file(path, tokens_key), path);
}

const Client* TokenTable::find(std::string_view token) const
{
    const auto digest = sha256(token);
    const Client* found = nullptr;
    for (const auto& entry : entries_) {
        // No early exit: every entry costs the same, matched or not.
        const bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
        found = equal ? &entry.client : found;
    }
    return found;
}

}  // namespace addrservice
