#pragma once

#include "addrservice/store/store_config.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice {

/// A configuration problem; the message names the key, e.g. "config: logging.level: expected one of ...".
/// The message is always one line: control characters in it (quoted from the file, a path or a library's
/// message) are shown escaped (\n, \x00).
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::string_view message);
};

/// The largest config file read; anything longer is refused unread.
inline constexpr std::size_t max_config_file_bytes = std::size_t{1024} * 1024;

enum class LogLevel { trace, debug, info, warning, error };
enum class ConsoleFormat { brief, detailed, json, off };

struct LoggingConfig {
    LogLevel level = LogLevel::info;
    ConsoleFormat console = ConsoleFormat::brief;
    std::optional<std::string> file;  // detailed logfmt, rotated
    std::size_t max_size_mb = 10;
    std::size_t max_files = 3;
    bool async = true;  // off only where a test reads lines back at once
};

struct Limits {
    std::size_t max_body_bytes = 1048576;
    std::size_t max_header_bytes = 8192;
    std::uint32_t header_timeout_s = 10;   // the whole header must arrive within this
    std::uint32_t request_timeout_s = 30;  // the whole request, header and body, must arrive within this
    std::uint32_t write_timeout_s = 30;    // a response the client reads nothing of for this long closes
    std::uint32_t idle_timeout_s = 60;
    std::size_t max_connections = 10000;
    std::size_t max_page = 1000;  // the largest `limit` a list accepts
};

/// Bearer-token authentication (auth:); without it every request is served.
struct AuthConfig {
    std::string tokens_file;  // "<read|write> <sha256 hex> <client name>" a line (addrservice/auth.hpp)
    std::vector<std::string> open{"/livez", "/readyz", "/healthz"};  // paths that need no token
};

/// The certificate chain and private key (PEM files) of a server that speaks HTTPS only.
struct TlsConfig {
    std::string cert;
    std::string key;
};

/// Everything the service needs to start, as one value passed down from main.
struct Config {
    std::string service_name = "Address Book";
    std::string host = "0.0.0.0";
    std::uint16_t port = 8080;
    bool debug = false;
    unsigned workers = 1;
    StoreConfig store;
    LoggingConfig logging;
    Limits limits;
    std::optional<AuthConfig> auth;
    std::optional<TlsConfig> tls;  // HTTPS only, when set
};

/// Reads a YAML config file over the defaults. Every problem is a ConfigError whose message starts with
/// "config: " and names the key, e.g. "config: addr-db: expected exactly one of memory|fs|sqlite|postgres".
/// Refused besides what the keys do not allow: a directory, a file over max_config_file_bytes, a key
/// given twice in any mapping.
Config load_config_file(const std::string& path);
/// The same, from YAML text (source names it in messages).
Config load_config_text(const std::string& text, const std::string& source = "(yaml)");

/// The bytes of a small text file: a directory, a file over max_config_file_bytes or a read error is a
/// ConfigError "config: <key>: cannot read '<path>': <why>" (without "<key>: " when key is empty).
std::string read_small_file(const std::string& path, std::string_view key = {});

LogLevel parse_log_level(std::string_view text);            // throws ConfigError
ConsoleFormat parse_console_format(std::string_view text);  // throws ConfigError
std::string_view to_string(LogLevel level) noexcept;
std::string describe(const StoreConfig& store);

}  // namespace addrservice
