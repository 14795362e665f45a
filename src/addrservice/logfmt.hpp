#pragma once

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace addrservice {

/// One log event's fields, in the order they were added. Keys are plain identifiers; string values are
/// quoted and escaped when rendered, so no value can forge another key or another line.
/// The keys and string values are copied, one after another, into one buffer that the fields own, held
/// inside the object up to a usual line's size: a line costs no allocation, not one per field.
class LogFields {
public:
    /// A value as find() gives it: text points into these fields, valid until they change.
    using Value = std::variant<std::string_view, std::int64_t, double, bool>;

    LogFields() = default;

    LogFields& add(std::string_view key, std::string_view value);
    LogFields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    LogFields& add(std::string_view key, std::int64_t value);
    LogFields& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }
    LogFields& add(std::string_view key, unsigned value) { return add(key, static_cast<std::int64_t>(value)); }
    LogFields& add(std::string_view key, double value);
    LogFields& add(std::string_view key, bool value);

    [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
    /// The value of the first field named key (its sanitized form), if any.
    [[nodiscard]] std::optional<Value> find(std::string_view key) const noexcept;
    void clear() noexcept
    {
        fields_.clear();
        text_.clear();
    }

    /// Appends key="value" key=42 ..., separated by single spaces.
    void append_logfmt(std::string& out) const;
    /// Appends "key":"value","key":42 ... (the members of a JSON object, without braces).
    void append_json_members(std::string& out) const;
    [[nodiscard]] std::string to_logfmt() const;
    [[nodiscard]] std::string to_json_members() const;

private:
    static constexpr std::size_t usual_fields = 12;  // a response's line has 7 to 11
    static constexpr std::size_t usual_text_bytes = 256;

    /// Where a key or a string value lies in text_.
    struct Span {
        std::size_t at = 0;
        std::size_t size = 0;
    };
    using Stored = std::variant<Span, std::int64_t, double, bool>;
    struct Field {
        Span key;
        Stored value;
    };

    /// Copies key, sanitized, and makes room for a string value of value_size bytes after it.
    Span add_key(std::string_view key, std::size_t value_size = 0);
    [[nodiscard]] std::string_view text(Span span) const noexcept
    {
        return {text_.data() + span.at, span.size};  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    }

    boost::container::small_vector<char, usual_text_bytes> text_;
    boost::container::small_vector<Field, usual_fields> fields_;
};

/// Appends value to out as a logfmt quoted string: quotes, backslashes and control characters escaped.
void append_logfmt_quoted(std::string& out, std::string_view value);

/// Appends value with three decimals (time_ms=0.412), or in its shortest form when too large for that
/// (1e+300); a value that is not finite is written as null.
void append_log_number(std::string& out, double value);

/// A key reduced to [A-Za-z0-9_.-]; anything else becomes '_' (an empty key becomes "_").
std::string sanitize_log_key(std::string_view key);

}  // namespace addrservice
