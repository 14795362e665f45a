#include "addrservice/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

namespace addrservice {

namespace {

/// A mapping nested deeper than this, or a document with more values than this once its aliases are
/// followed, is refused: no config comes near, and an alias can make a cycle or an exponential tree.
constexpr int max_depth = 64;
constexpr std::size_t max_values = std::size_t{1} << 16U;
/// Nor more text than this (a file is at most 1 MiB; aliases of one long string could make gigabytes).
constexpr std::size_t max_text_bytes = std::size_t{1} << 24U;

/// The longest part of a value quoted in a message.
constexpr std::size_t max_quoted_bytes = 64;

bool is_control(char c) noexcept
{
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

/// True when text[at] starts a C1 control character (U+0080 to U+009F, 0xC2 0x80 to 0xC2 0x9F in UTF-8),
/// which terminals act on too (U+009B starts an escape sequence) and U+0085 ends a line in some readers.
bool starts_c1_control(std::string_view text, std::size_t at) noexcept
{
    return static_cast<unsigned char>(text[at]) == 0xC2 && at + 1 < text.size() &&
           static_cast<unsigned char>(text[at + 1]) >= 0x80 && static_cast<unsigned char>(text[at + 1]) <= 0x9F;
}

std::optional<std::size_t> invalid_utf8_at(std::string_view text);

/// True when text holds a control character: C0, DEL or C1.
bool has_control(std::string_view text) noexcept
{
    for (std::size_t at = 0; at < text.size(); ++at) {
        if (is_control(text[at]) || starts_c1_control(text, at)) {
            return true;
        }
    }
    return false;
}

/// The message with its control characters escaped: one line, nothing a terminal acts on.
std::string escape_controls(std::string_view message)
{
    static constexpr std::string_view hex = "0123456789abcdef";
    std::string line;
    line.reserve(message.size());
    for (std::size_t at = 0; at < message.size(); ++at) {
        const char c = message[at];
        if (starts_c1_control(message, at)) {
            const auto code = static_cast<unsigned char>(message[++at]);
            line += "\\u00";
            line += hex[code >> 4U];
            line += hex[code & 0xfU];
        } else if (c == '\n') {
            line += "\\n";
        } else if (c == '\r') {
            line += "\\r";
        } else if (c == '\t') {
            line += "\\t";
        } else if (is_control(c)) {
            const auto byte = static_cast<unsigned char>(c);
            line += "\\x";
            line += hex[byte >> 4U];
            line += hex[byte & 0xfU];
        } else {
            line += c;
        }
    }
    return line;
}

/// Text cut at a character boundary to at most max_quoted_bytes, with "..." when cut.
std::string cut_short(std::string_view text)
{
    if (text.size() <= max_quoted_bytes) {
        return std::string(text);
    }
    auto cut = max_quoted_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0U) == 0x80U) {
        --cut;  // not inside a UTF-8 sequence
    }
    return std::string(text.substr(0, cut)) + "...";
}

/// A value as messages show it: in quotes, cut short (at a character boundary) when long.
std::string quoted(std::string_view text)
{
    if (text.size() <= max_quoted_bytes) {
        return "'" + std::string(text) + "'";
    }
    return "'" + cut_short(text) + "' (" + std::to_string(text.size()) + " bytes)";
}

[[noreturn]] void fail(const std::string& key, const std::string& what)
{
    throw ConfigError("config: " + key + ": " + what);
}

/// The dotted path of a key in the mapping at path: "limits.max_body_bytes". A long name is cut short:
/// a file that is not a config (a password file) must not be echoed by its error.
std::string key_path(const std::string& path, const std::string& name)
{
    if (path.empty()) {
        return cut_short(name);
    }
    std::string key = path;
    key += '.';
    key += cut_short(name);
    return key;
}

std::string describe_node(const YAML::Node& node)
{
    switch (node.Type()) {
        case YAML::NodeType::Scalar:
            return quoted(node.Scalar());
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Null:
            return "nothing";
        default:
            return "an undefined value";
    }
}

std::string read_string(const YAML::Node& node, const std::string& key)
{
    if (!node.IsScalar() || node.Scalar().empty()) {
        fail(key, "expected a non-empty string, got " + describe_node(node));
    }
    const auto& text = node.Scalar();
    if (invalid_utf8_at(text)) {
        fail(key, "expected a string of UTF-8 text, got a byte that is none (YAML's \\N escape makes one)");
    }
    if (has_control(text)) {
        // A NUL would cut a path short where it reaches the operating system.
        fail(key, "expected a string without control characters, got " + quoted(text));
    }
    return text;
}

/// An integer from minimum to maximum: the range keeps every use of the value from overflowing.
template <typename Unsigned>
Unsigned read_unsigned(const YAML::Node& node, const std::string& key, Unsigned minimum, Unsigned maximum)
{
    const auto expected = "expected an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum);
    if (!node.IsScalar()) {
        fail(key, expected + ", got " + describe_node(node));
    }
    const auto& text = node.Scalar();
    if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
        // Quoted, or tagged !!str: a string that looks like a number is still a string (YAML's rule).
        fail(key, expected + ", got the string " + quoted(text));
    }
    if (node.Tag() != "?" && node.Tag() != "tag:yaml.org,2002:int") {
        fail(key, expected + ", got a value tagged " + quoted(node.Tag()));
    }
    Unsigned value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value < minimum || value > maximum) {
        fail(key, expected + ", got " + quoted(text));
    }
    return value;
}

/// What a key's value is handed to: the value, and the key's dotted path for error messages.
using KeyHandler = std::function<void(const YAML::Node&, const std::string&)>;

/// A handler that reads a non-empty string into field (a std::string or an optional one).
template <typename Text>
KeyHandler into(Text& field)
{
    return [&field](const YAML::Node& node, const std::string& key) { field = read_string(node, key); };
}

/// A handler that reads an unsigned integer from minimum to maximum into field.
template <typename Unsigned>
KeyHandler into(Unsigned& field, Unsigned minimum, Unsigned maximum)
{
    return [&field, minimum, maximum](const YAML::Node& node, const std::string& key) {
        field = read_unsigned<Unsigned>(node, key, minimum, maximum);
    };
}

/// A handler that reads a string and parses it into field; parse throws ConfigError on a bad value.
template <typename Value>
KeyHandler into(Value& field, Value (*parse)(std::string_view))
{
    return [&field, parse](const YAML::Node& node, const std::string& key) {
        const auto text = read_string(node, key);
        try {
            field = parse(text);
        } catch (const ConfigError& e) {
            fail(key, e.what());
        }
    };
}

/// A key that could be a config key: letters, digits, '_' and '-'.
bool is_plain_name(std::string_view name) noexcept
{
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

/// Calls the handler of each key of a mapping; an unknown key is an error naming it.
void for_each_key(const YAML::Node& node, const std::string& path, const std::map<std::string, KeyHandler>& handlers)
{
    if (!node.IsMap()) {
        if (path.empty()) {
            // Not echoed: a file that is no config at all (a password file) must not be shown by its error.
            fail("(top level)", "expected a mapping of keys, got " +
                                    (node.IsScalar() ? std::string("text") : describe_node(node)) +
                                    " (is this a config file?)");
        }
        fail(path, "expected a mapping, got " + describe_node(node));
    }
    for (const auto& item : node) {
        if (!item.first.IsScalar()) {
            fail(path.empty() ? std::string("(top level)") : path, "expected a key, got " + describe_node(item.first));
        }
        const auto& name = item.first.Scalar();
        const auto key = key_path(path, name);
        const auto handler = handlers.find(name);
        if (handler == handlers.end()) {
            if (!is_plain_name(name)) {
                // Not echoed: a file that is no config at all (a password file) must not be shown by its error.
                fail(path.empty() ? std::string("(top level)") : path,
                     "an unknown key that is not a name (is this a config file?)");
            }
            fail(key, "unknown key");
        }
        handler->second(item.second, key);
    }
}

/// A libpq connection string; empty takes everything from the PG* environment. Never echoed in an
/// error: it may hold a password.
std::string read_connection_string(const YAML::Node& node, const std::string& key)
{
    if (!node.IsScalar()) {
        fail(key, "expected a connection string (\"\" for the PG* environment), got " + describe_node(node));
    }
    const auto& text = node.Scalar();
    // A YAML escape can make bytes that are not UTF-8 though the file is (yaml-cpp writes "\N", U+0085,
    // as the one byte 0x85).
    if (invalid_utf8_at(text) || has_control(text)) {
        // Not quoted: a connection string may hold a password.
        fail(key, "expected a connection string without control characters");
    }
    return text;
}

/// addr-db.postgres: a connection string, or {url, pool_size, timeout_ms}.
void read_postgres(const YAML::Node& node, const std::string& key, StoreConfig& store)
{
    constexpr std::uint32_t largest_pool = 1000;
    constexpr std::uint32_t longest_timeout_ms = 600'000;  // ten minutes
    store.location.clear();
    if (!node.IsMap()) {
        store.location = read_connection_string(node, key);
        return;
    }
    for_each_key(
        node, key,
        {
            {"url", [&store](const YAML::Node& value,
                             const std::string& path) { store.location = read_connection_string(value, path); }},
            {"pool_size", into(store.pool_size, std::uint32_t{1}, largest_pool)},
            {"timeout_ms", into(store.timeout_ms, std::uint32_t{1}, longest_timeout_ms)},
        });
}

void read_store(const YAML::Node& node, const std::string& key, StoreConfig& store)
{
    static const std::map<std::string, StoreConfig::Kind> kinds{{"memory", StoreConfig::Kind::memory},
                                                                {"fs", StoreConfig::Kind::fs},
                                                                {"sqlite", StoreConfig::Kind::sqlite},
                                                                {"postgres", StoreConfig::Kind::postgres}};
    if (!node.IsMap() || node.size() != 1) {
        fail(key, "expected exactly one of memory|fs|sqlite|postgres");
    }
    const auto item = *node.begin();
    const auto name = item.first.IsScalar() ? item.first.Scalar() : std::string();
    const auto kind = kinds.find(name);
    if (kind == kinds.end()) {
        fail(key, "expected exactly one of memory|fs|sqlite|postgres, got " + describe_node(item.first));
    }
    store.kind = kind->second;
    if (store.kind == StoreConfig::Kind::memory) {
        if (!item.second.IsNull()) {
            fail(key + ".memory", "expected null, got " + describe_node(item.second));
        }
        store.location.clear();
    } else if (store.kind == StoreConfig::Kind::postgres) {
        read_postgres(item.second, key + ".postgres", store);
    } else {
        store.location = read_string(item.second, key + "." + name);
    }
}

std::string position(const YAML::Mark& mark)
{
    return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

/// The top-level key a path starts with: "limits" of "limits.max_body_bytes" or "colour[0][1]".
std::string top_key(const std::string& path)
{
    return path.empty() ? std::string("(top level)") : path.substr(0, path.find_first_of(".["));
}

/// yaml-cpp 0.7 keeps both pairs of a key given twice in a mapping, and a lookup finds one of them:
/// refuses such a key in every mapping of the document, also where the config reads nothing.
/// How much of the document a walk has seen, aliases expanded.
struct Expansion {
    std::size_t values = 0;
    std::size_t text_bytes = 0;
};

void refuse_duplicate_keys(const YAML::Node& node, const std::string& path, int depth, Expansion& visited)
{
    if (node.IsScalar()) {
        visited.text_bytes += node.Scalar().size();
        if (visited.text_bytes > max_text_bytes) {
            fail(top_key(path),
                 "more than " + std::to_string(max_text_bytes) + " bytes of text once aliases are expanded");
        }
    }
    if (++visited.values > max_values) {
        fail(top_key(path), "more than " + std::to_string(max_values) + " values once aliases are expanded");
    }
    if (depth > max_depth) {
        fail(top_key(path), "nested more than " + std::to_string(max_depth) + " levels deep");
    }
    if (node.IsSequence()) {
        std::size_t index = 0;
        for (const auto& item : node) {
            refuse_duplicate_keys(item, path + "[" + std::to_string(index++) + "]", depth + 1, visited);
        }
    } else if (node.IsMap()) {
        std::map<std::string, YAML::Mark, std::less<>> seen;
        for (const auto& item : node) {
            if (!item.first.IsScalar()) {
                continue;  // no key the config reads: refused as such
            }
            const auto& name = item.first.Scalar();
            const auto key = key_path(path, name);
            if (const auto [first, added] = seen.emplace(name, item.first.Mark()); !added) {
                fail(key,
                     "duplicate key at " + position(item.first.Mark()) + " (first at " + position(first->second) + ")");
            }
            refuse_duplicate_keys(item.second, key, depth + 1, visited);
        }
    }
}

/// "line:column" (from 1) of a byte offset in text.
std::string position_of(std::string_view text, std::size_t offset)
{
    const auto line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
    const auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n') + 1;
    const auto column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
    return std::to_string(line) + ":" + std::to_string(column);
}

/// The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong form, no
/// surrogate, nothing above U+10FFFF), if any.
std::optional<std::size_t> invalid_utf8_at(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 1;
        unsigned char low = 0x80;  // the range of the second byte, narrower after some leads
        unsigned char high = 0xbf;
        if (lead < 0x80) {
            ++i;
            continue;
        }
        if (lead >= 0xc2 && lead <= 0xdf) {
            length = 2;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            length = 3;
            low = lead == 0xe0 ? 0xa0 : 0x80;
            high = lead == 0xed ? 0x9f : 0xbf;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            length = 4;
            low = lead == 0xf0 ? 0x90 : 0x80;
            high = lead == 0xf4 ? 0x8f : 0xbf;
        } else {
            return i;
        }
        if (i + length > text.size()) {
            return i;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto byte = static_cast<unsigned char>(text[i + k]);
            if (k == 1 ? (byte < low || byte > high) : (byte & 0xc0U) != 0x80U) {
                return i;
            }
        }
        i += length;
    }
    return std::nullopt;
}

/// yaml-cpp's parse events, all ignored but where each document starts.
class DocumentStarts : public YAML::EventHandler {
public:
    YAML::Mark last;

    void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
    void OnAlias(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
    void OnScalar(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  const std::string& /*value*/) override
    {
    }
    void OnSequenceStart(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                         YAML::EmitterStyle::value /*style*/) override
    {
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                    YAML::EmitterStyle::value /*style*/) override
    {
    }
    void OnMapEnd() override {}
};

/// Where a second document starts in text, if one does. yaml-cpp reads only the first and ignores the
/// rest. (Not YAML::LoadAll: on some malformed text, "! ," for one, yaml-cpp 0.7 finds documents without
/// end; two are all this asks for.)
std::optional<YAML::Mark> second_document_at(const std::string& text)
{
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    if (!parser.HandleNextDocument(starts) || !parser.HandleNextDocument(starts)) {
        return std::nullopt;
    }
    return starts.last;
}

/// Closes a C stream.
struct FileCloser {
    void operator()(std::FILE* file) const noexcept
    {
        (void)std::fclose(file);
    }  // NOLINT(cppcoreguidelines-owning-memory)
};

/// auth.open: a list of paths, each starting with '/'.
std::vector<std::string> read_open_paths(const YAML::Node& node, const std::string& key)
{
    if (!node.IsSequence()) {
        fail(key, "expected a list of paths, got " + describe_node(node));
    }
    std::vector<std::string> paths;
    std::size_t index = 0;
    for (const auto& item : node) {
        const auto item_key = key + "[" + std::to_string(index++) + "]";
        auto path = read_string(item, item_key);
        if (path.front() != '/' || path.find_first_of(" ?#") != std::string::npos) {
            fail(item_key, "expected a path starting with '/' (no query, no spaces), got " + quoted(path));
        }
        paths.push_back(std::move(path));
    }
    return paths;
}

/// auth: {tokens_file, open}; tokens_file is required.
AuthConfig read_auth(const YAML::Node& node, const std::string& key)
{
    AuthConfig auth;
    bool has_tokens_file = false;
    for_each_key(node, key,
                 {
                     {"tokens_file",
                      [&](const YAML::Node& value, const std::string& path) {
                          auth.tokens_file = read_string(value, path);
                          has_tokens_file = true;
                      }},
                     {"open", [&](const YAML::Node& value,
                                  const std::string& path) { auth.open = read_open_paths(value, path); }},
                 });
    if (!has_tokens_file) {
        fail(key + ".tokens_file", "required when auth is given");
    }
    return auth;
}

}  // namespace

/// The file's bytes; refuses a directory, a FIFO or socket (never waited on) and anything longer than
/// max_config_file_bytes, reading at most one byte more than that (a device has no size to check first).
std::string read_small_file(const std::string& path, std::string_view key)
{
    const auto refuse = [&path, key](const std::string& why) {
        return ConfigError("config: " + (key.empty() ? std::string() : std::string(key) + ": ") + "cannot read '" +
                           path + "': " + why);
    };
    const auto system_error = [] { return std::string(std::strerror(errno)); };  // NOLINT(concurrency-mt-unsafe)
    const auto too_large = "larger than " + std::to_string(max_config_file_bytes / (std::size_t{1024} * 1024)) +
                           " MiB (" + std::to_string(max_config_file_bytes) + " bytes)";
    // Opened without waiting: opening a FIFO for reading would wait for a writer.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        throw refuse(system_error());
    }
    const std::unique_ptr<std::FILE, FileCloser> file(::fdopen(fd, "rb"));
    if (!file) {
        ::close(fd);
        throw refuse(system_error());
    }
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        throw refuse(system_error());
    }
    if (S_ISDIR(status.st_mode)) {
        throw refuse("is a directory");
    }
    if (S_ISFIFO(status.st_mode) || S_ISSOCK(status.st_mode)) {
        throw refuse("is a FIFO or socket, not a file");
    }
    if (S_ISREG(status.st_mode) && static_cast<std::uintmax_t>(status.st_size) > max_config_file_bytes) {
        throw refuse(too_large);
    }
    std::string text(max_config_file_bytes + 1, '\0');
    const auto length = std::fread(text.data(), 1, text.size(), file.get());
    if (std::ferror(file.get()) != 0) {
        throw refuse(system_error());
    }
    if (length > max_config_file_bytes) {
        throw refuse(too_large);
    }
    text.resize(length);
    return text;
}

ConfigError::ConfigError(std::string_view message) : std::runtime_error(escape_controls(message)) {}

Config load_config_text(const std::string& text, const std::string& source)
{
    // yaml-cpp would take a NUL for UTF-16 or report an escape character; it has no place in UTF-8 text.
    if (const auto nul = text.find('\0'); nul != std::string::npos) {
        throw ConfigError("config: " + source + ":" + position_of(text, nul) +
                          ": a NUL byte (a config file is UTF-8 text)");
    }
    if (const auto bad = invalid_utf8_at(text)) {
        throw ConfigError("config: " + source + ":" + position_of(text, *bad) +
                          ": not UTF-8 (a config file is UTF-8 text)");
    }
    YAML::Node root;
    try {
        root = YAML::Load(text);
        if (const auto second = second_document_at(text)) {
            throw ConfigError("config: " + source + ":" + std::to_string(second->line + 1) +
                              ": a second YAML document (a config file is one document; '---' starts another)");
        }
    } catch (const YAML::Exception& e) {
        throw ConfigError("config: " + source + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    Config config;
    if (root.IsNull()) {
        return config;  // an empty file: every default
    }
    try {
        Expansion visited;
        refuse_duplicate_keys(root, "", 0, visited);
        for_each_key(
            root, "",
            {
                {"service",
                 [&](const YAML::Node& node, const std::string& path) {
                     for_each_key(node, path, {{"name", into(config.service_name)}});
                 }},
                {"addr-db",
                 [&](const YAML::Node& node, const std::string& path) { read_store(node, path, config.store); }},
                {"logging",
                 [&](const YAML::Node& node, const std::string& path) {
                     auto& logging = config.logging;
                     for_each_key(node, path,
                                  {
                                      {"level", into(logging.level, &parse_log_level)},
                                      {"console", into(logging.console, &parse_console_format)},
                                      {"file", into(logging.file)},
                                      // In bytes, it must fit a size_t.
                                      {"max_size_mb", into(logging.max_size_mb, std::size_t{1}, std::size_t{1048576})},
                                      // spdlog renames each of them at every rotation.
                                      {"max_files", into(logging.max_files, std::size_t{0}, std::size_t{1000})},
                                  });
                 }},
                {"limits",
                 [&](const YAML::Node& node, const std::string& path) {
                     auto& limits = config.limits;
                     for_each_key(
                         node, path,
                         {
                             // A body is held in memory whole.
                             {"max_body_bytes", into(limits.max_body_bytes, std::size_t{1}, std::size_t{1073741824})},
                             // Beast counts header bytes in 32 bits.
                             {"max_header_bytes", into(limits.max_header_bytes, std::size_t{1}, std::size_t{1048576})},
                             {"header_timeout_s",
                              into(limits.header_timeout_s, std::uint32_t{1}, std::uint32_t{86400})},
                             {"request_timeout_s",
                              into(limits.request_timeout_s, std::uint32_t{1}, std::uint32_t{86400})},
                             {"write_timeout_s", into(limits.write_timeout_s, std::uint32_t{1}, std::uint32_t{86400})},
                             {"idle_timeout_s", into(limits.idle_timeout_s, std::uint32_t{1}, std::uint32_t{86400})},
                             // One file descriptor each.
                             {"max_connections", into(limits.max_connections, std::size_t{1}, std::size_t{1000000})},
                             // A page is held in memory whole.
                             {"max_page", into(limits.max_page, std::size_t{1}, std::size_t{100000})},
                         });
                 }},
                {"auth", [&](const YAML::Node& node, const std::string& path) { config.auth = read_auth(node, path); }},
                {"tls",
                 [&](const YAML::Node& node, const std::string& path) {
                     TlsConfig tls;
                     for_each_key(node, path, {{"cert", into(tls.cert)}, {"key", into(tls.key)}});
                     if (tls.cert.empty() || tls.key.empty()) {
                         fail(path, "expected both cert and key");
                     }
                     config.tls = tls;
                 }},
            });
    } catch (const YAML::Exception& e) {
        throw ConfigError("config: " + source + ": " + e.msg);
    }
    return config;
}

Config load_config_file(const std::string& path)
{
    return load_config_text(read_small_file(path), path);
}

LogLevel parse_log_level(std::string_view text)
{
    if (text == "trace") {
        return LogLevel::trace;
    }
    if (text == "debug") {
        return LogLevel::debug;
    }
    if (text == "info") {
        return LogLevel::info;
    }
    if (text == "warning") {
        return LogLevel::warning;
    }
    if (text == "error") {
        return LogLevel::error;
    }
    throw ConfigError("expected one of trace|debug|info|warning|error, got " + quoted(text));
}

ConsoleFormat parse_console_format(std::string_view text)
{
    if (text == "brief") {
        return ConsoleFormat::brief;
    }
    if (text == "detailed") {
        return ConsoleFormat::detailed;
    }
    if (text == "json") {
        return ConsoleFormat::json;
    }
    if (text == "off") {
        return ConsoleFormat::off;
    }
    throw ConfigError("expected one of brief|detailed|json|off, got " + quoted(text));
}

std::string_view to_string(LogLevel level) noexcept
{
    switch (level) {
        case LogLevel::trace:
            return "TRACE";
        case LogLevel::debug:
            return "DEBUG";
        case LogLevel::info:
            return "INFO";
        case LogLevel::warning:
            return "WARNING";
        case LogLevel::error:
            return "ERROR";
    }
    return "INFO";
}

std::string describe(const StoreConfig& store)
{
    switch (store.kind) {
        case StoreConfig::Kind::memory:
            return "memory";
        case StoreConfig::Kind::fs:
            return "fs:" + store.location;
        case StoreConfig::Kind::sqlite:
            return "sqlite:" + store.location;
        case StoreConfig::Kind::postgres:
            return "postgres";  // the connection string may hold a password
    }
    return "memory";
}

}  // namespace addrservice
