#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// Bearer tokens as plain data: the tokens file and the lookup of a token; nothing of HTTP.
namespace addrservice {

/// What a token allows: read (GET, HEAD) or write (every method).
enum class Scope { read, write };

/// The holder of a token, as the tokens file names it.
struct Client {
    std::string name;
    Scope scope = Scope::read;
};

using TokenDigest = std::array<unsigned char, 32>;

/// The SHA-256 of text (OpenSSL).
TokenDigest sha256(std::string_view text);

/// The tokens of a tokens file, by their SHA-256 (the file never holds a token itself).
///
/// The file has one token a line, "<read|write> <sha256 hex of the token> <client name>", the fields
/// separated by spaces or tabs; the client name is the rest of the line (it may hold spaces). Blank lines
/// and lines whose first non-blank character is '#' are ignored. The same digest twice is an error; one
/// client may hold several tokens (to rotate them).
class TokenTable {
public:
    /// Parses a tokens file's text; source names it in messages. A bad line is a ConfigError naming the
    /// source and the line: "config: auth.tokens_file: ./var/tokens:3: expected ...".
    static TokenTable parse(std::string_view text, const std::string& source);
    /// Reads and parses the file at path (at most max_config_file_bytes). Throws ConfigError.
    static TokenTable load(const std::string& path);

    /// The client holding token, or nullptr. Every digest is compared, in constant time, whatever matches:
    /// the time taken says nothing of which digest matched or how much of it.
    [[nodiscard]] const Client* find(std::string_view token) const;
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        TokenDigest digest{};
        Client client;
    };
    std::vector<Entry> entries_;
};

}  // namespace addrservice
