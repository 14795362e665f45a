#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace addrservice::fuzz {

/// A value as a logfmt line carries it: the text of a quoted string (unescaped), or a bare token.
struct LogfmtValue {
    std::string text;
    bool quoted = false;

    bool operator==(const LogfmtValue&) const = default;
};

using LogfmtField = std::pair<std::string, LogfmtValue>;

/// Reads a line as LogFields::to_logfmt writes it: key=value pairs separated by single spaces, keys of
/// [A-Za-z0-9_.-], values either bare tokens or quoted strings whose quotes, backslashes and control
/// characters are escaped. Strict: nullopt for anything else (a raw control character in a string, an
/// unknown escape, a stray quote), so a writer that escapes too little is caught.
std::optional<std::vector<LogfmtField>> read_logfmt(std::string_view line);

/// The fields of a log line as the service's logfmt formats write it ("<time> ... LEVEL : fields");
/// nullopt when there is no " : " or the fields do not read.
std::optional<std::vector<LogfmtField>> read_log_line(std::string_view line);

/// What a string value reads back as: each byte that starts no UTF-8 sequence replaced by U+FFFD.
std::string as_logged(std::string_view text);

}  // namespace addrservice::fuzz
