#pragma once

#include <stdexcept>
#include <string_view>

// The properties each fuzz target checks, one function per target. The fuzzers call them on generated
// inputs; the unit tests replay the inputs kept under fuzz/regressions/ through the same functions.
namespace addrservice::fuzz {

/// A property that does not hold for an input: what was expected, what happened.
class Finding : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// Raw bytes as a client sends them: read as the server reads them (a fresh parser per request, the
/// server's limits, pipelined requests one after the other) and each request answered by the app over a
/// memory store. Every response is well formed, and every log line reads back as logfmt.
void check_http(std::string_view input);

/// A request body through parsing, the depth limit, validation and the canonical writer: a valid body's
/// stored text reads back to an equal value and normalises to itself; an invalid one is refused with
/// InvalidJsonError or SchemaValidationError (whose pointers name places in the body).
void check_body(std::string_view input);

/// A YAML config text: loaded, or refused with ConfigError, and nothing else.
void check_config(std::string_view input);

/// Log fields made from the input: fields separated by 0x1E, each a type byte ('s' string, 'i' integer,
/// 'd' double, 'b' boolean; anything else a string), then the key, 0x1F and the value (a number as decimal
/// text, or its raw bytes when it is not). The logfmt line reads back as the same fields (no value forges
/// a key or a line), and the JSON members parse back as the same members.
void check_logfmt(std::string_view input);

/// A row's text as a store reads it back: the stores' row check (is_json_object) accepts it exactly when a
/// full parse reads it as one JSON object.
void check_row(std::string_view input);

}  // namespace addrservice::fuzz
