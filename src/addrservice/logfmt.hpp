#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace addrservice {

/// One log event's fields, in the order they were added. Keys are plain identifiers; string values are
/// quoted and escaped when rendered, so no value can forge another key or another line.
class LogFields {
public:
    using Value = std::variant<std::string, std::int64_t, double, bool>;

    LogFields() { fields_.reserve(usual_fields); }

    LogFields& add(std::string_view key, std::string_view value);
    LogFields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    LogFields& add(std::string_view key, std::int64_t value);
    LogFields& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }
    LogFields& add(std::string_view key, unsigned value) { return add(key, static_cast<std::int64_t>(value)); }
    LogFields& add(std::string_view key, double value);
    LogFields& add(std::string_view key, bool value);

    [[nodiscard]] const std::vector<std::pair<std::string, Value>>& fields() const noexcept { return fields_; }
    [[nodiscard]] const Value* find(std::string_view key) const noexcept;
    void clear() noexcept { fields_.clear(); }

    /// key="value" key=42 ..., separated by single spaces.
    [[nodiscard]] std::string to_logfmt() const;
    /// "key":"value","key":42 ... (the members of a JSON object, without braces).
    [[nodiscard]] std::string to_json_members() const;

private:
    static constexpr std::size_t usual_fields = 12;  // a response's line has 7 to 11

    std::vector<std::pair<std::string, Value>> fields_;
};

/// Appends value to out as a logfmt quoted string: quotes, backslashes and control characters escaped.
void append_logfmt_quoted(std::string& out, std::string_view value);

/// A key reduced to [A-Za-z0-9_.-]; anything else becomes '_' (an empty key becomes "_").
std::string sanitize_log_key(std::string_view key);

}  // namespace addrservice
