#include "addrservice/logfmt.hpp"

#include "addrservice/hex.hpp"

#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace addrservice {

namespace {

/// Writes into room made beforehand. A line's most possible length is known before it is written (every
/// byte escaped, every number at its longest), so the writing itself checks nothing and calls nothing.
class Writer {
public:
    explicit Writer(char* at) noexcept : at_(at) {}

    void put(char c) noexcept { *at_++ = c; }  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    void put(std::string_view text) noexcept
    {
        std::memcpy(at_, text.data(), text.size());
        at_ += text.size();  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    }
    [[nodiscard]] char* at() const noexcept { return at_; }

private:
    char* at_;
};

/// The most a number or a boolean takes: an int64 takes 20, a double's shortest form 24.
constexpr std::size_t longest_scalar = 32;
/// The most one byte of a string value takes escaped (\u00XX).
constexpr std::size_t longest_escape = 6;

/// Appends what write(Writer&) writes, given room for at most `most` bytes.
template <typename Write>
void append_with(std::string& out, std::size_t most, Write write)
{
    const auto start = out.size();
    out.resize(start + most);
    Writer writer(out.data() + start);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    write(writer);
    out.resize(static_cast<std::size_t>(writer.at() - out.data()));
}

void write_number(Writer& out, std::int64_t value)
{
    std::array<char, 24> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.put(std::string_view(buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data())));
}

/// Below this, a value times 1000 is a whole number a double holds exactly, and fits an int64.
constexpr double largest_fixed = 1e12;

void write_number(Writer& out, double value)
{
    if (!std::isfinite(value)) {
        out.put("null");
        return;
    }
    const double magnitude = std::fabs(value);
    if (magnitude < largest_fixed) {
        // Thousandths as a whole number, then written as digits: the usual case (a duration in
        // milliseconds), several times cheaper than to_chars with a precision.
        const auto thousandths = std::llround(magnitude * 1000);
        if (std::signbit(value)) {
            out.put('-');
        }
        write_number(out, static_cast<std::int64_t>(thousandths / 1000));
        const auto fraction = static_cast<unsigned>(thousandths % 1000);
        out.put('.');
        out.put(static_cast<char>('0' + fraction / 100));
        out.put(static_cast<char>('0' + fraction / 10 % 10));
        out.put(static_cast<char>('0' + fraction % 10));
        return;
    }
    // Too large for three decimals to mean anything: the shortest form that reads back the same (1e+300).
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.put(std::string_view(buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data())));
}

/// A number or a boolean, written the same in logfmt and in JSON.
template <typename Stored>
void write_scalar(Writer& out, const Stored& value)
{
    if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        write_number(out, *integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
        write_number(out, *real);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
        out.put(*flag ? std::string_view("true") : std::string_view("false"));
    }
}

template <typename Stored>
void append_scalar(std::string& out, const Stored& value)
{
    append_with(out, longest_scalar, [&value](Writer& writer) { write_scalar(writer, value); });
}

/// The bytes a key keeps; any other becomes '_'.
constexpr auto plain_key_bytes = [] {
    std::array<bool, 256> plain{};
    for (unsigned byte = 0; byte < 0x100; ++byte) {
        plain.at(byte) = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') ||
                         byte == '_' || byte == '.' || byte == '-';
    }
    return plain;
}();

bool is_plain_key_char(char c) noexcept
{
    return plain_key_bytes[static_cast<unsigned char>(c)];  // NOLINT(cppcoreguidelines-pro-bounds-constant-array-index)
}

/// True for the bytes written as they are inside quotes: a table, as this runs for every byte logged.
constexpr auto plain_value_bytes = [] {
    std::array<bool, 256> plain{};
    for (unsigned byte = 0x20; byte < 0x7f; ++byte) {
        plain.at(byte) = byte != '"' && byte != '\\';
    }
    return plain;
}();

bool is_plain_value_byte(char c) noexcept
{
    return plain_value_bytes[static_cast<unsigned char>(
        c)];  // NOLINT(cppcoreguidelines-pro-bounds-constant-array-index)
}

void write_escaped(Writer& out, char c)
{
    switch (c) {
        case '"':
            out.put("\\\"");
            break;
        case '\\':
            out.put("\\\\");
            break;
        case '\n':
            out.put("\\n");
            break;
        case '\r':
            out.put("\\r");
            break;
        case '\t':
            out.put("\\t");
            break;
        default:
            out.put("\\u00");
            out.put(hex_digit(static_cast<unsigned char>(c) >> 4U));
            out.put(hex_digit(static_cast<unsigned char>(c)));
    }
}

/// How many bytes at the start of text are plain (printable ASCII but quotes and backslashes). A string
/// value is usually plain from end to end, so
/// (where SSE2 is, as on every x86-64) bytes are tested sixteen at a time; the byte that ends the run is
/// then found one at a time.
std::size_t plain_run(std::string_view text) noexcept
{
    std::size_t plain = 0;
#if defined(__SSE2__)
    const __m128i below_space = _mm_set1_epi8(0x1f);
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    for (; plain + sizeof(__m128i) <= text.size(); plain += sizeof(__m128i)) {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-pointer-arithmetic,cppcoreguidelines-pro-type-reinterpret-cast)
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + plain));
        // Printable ASCII, 0x20 to 0x7e, is what a signed byte compares between 0x1f and 0x7f.
        const __m128i printable = _mm_and_si128(_mm_cmpgt_epi8(bytes, below_space), _mm_cmplt_epi8(bytes, del));
        const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash));
        if (_mm_movemask_epi8(_mm_andnot_si128(special, printable)) != 0xffff) {
            break;
        }
    }
#endif
    while (plain < text.size() && is_plain_value_byte(text[plain])) {
        ++plain;
    }
    return plain;
}

/// The length of the well-formed UTF-8 sequence that text starts with (2 to 4 bytes), or 0 when its first
/// byte (0x80 or above) starts none.
std::size_t utf8_sequence(std::string_view text) noexcept
{
    const auto byte = [&text](std::size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0U; };
    const auto continues = [&byte](std::size_t i, unsigned low = 0x80, unsigned high = 0xbf) {
        return byte(i) >= low && byte(i) <= high;
    };
    const unsigned lead = byte(0);
    if (lead >= 0xc2 && lead <= 0xdf) {
        return continues(1) ? 2 : 0;
    }
    if (lead >= 0xe0 && lead <= 0xef) {
        // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
        const bool second = lead == 0xe0 ? continues(1, 0xa0) : lead == 0xed ? continues(1, 0x80, 0x9f) : continues(1);
        return second && continues(2) ? 3 : 0;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        // No overlong forms (F0 80..8F) and nothing past U+10FFFF (F4 90..).
        const bool second = lead == 0xf0 ? continues(1, 0x90) : lead == 0xf4 ? continues(1, 0x80, 0x8f) : continues(1);
        return second && continues(2) && continues(3) ? 4 : 0;
    }
    return 0;
}

/// Writes the character at the start of text that is not plain, and says how many bytes it took. A log
/// line is UTF-8 and one line: an ASCII control character is escaped, and so are the characters that some
/// readers take for a line end (U+0085, U+2028, U+2029); a byte that starts no UTF-8 sequence is written as
/// U+FFFD, as the JSON lines write it.
std::size_t write_character(Writer& out, std::string_view text)
{
    if (static_cast<unsigned char>(text.front()) < 0x80) {
        write_escaped(out, text.front());
        return 1;
    }
    const auto size = utf8_sequence(text);
    if (size == 0) {
        out.put("\xEF\xBF\xBD");
        return 1;
    }
    const auto character = text.substr(0, size);
    if (character == "\xC2\x85") {
        out.put("\\u0085");
    } else if (character == "\xE2\x80\xA8") {
        out.put("\\u2028");
    } else if (character == "\xE2\x80\xA9") {
        out.put("\\u2029");
    } else {
        out.put(character);
    }
    return size;
}

void write_quoted(Writer& out, std::string_view value)
{
    out.put('"');
    // Runs of plain bytes (most values are nothing else) are copied whole.
    while (!value.empty()) {
        const auto plain = plain_run(value);
        out.put(value.substr(0, plain));
        if (plain == value.size()) {
            break;
        }
        value.remove_prefix(plain);
        value.remove_prefix(write_character(out, value));
    }
    out.put('"');
}

}  // namespace

void append_log_number(std::string& out, double value)
{
    append_with(out, longest_scalar, [value](Writer& writer) { write_number(writer, value); });
}

std::string sanitize_log_key(std::string_view key)
{
    if (key.empty()) {
        return "_";
    }
    std::string out(key);
    std::replace_if(
        out.begin(), out.end(), [](char c) { return !is_plain_key_char(c); }, '_');
    return out;
}

void append_logfmt_quoted(std::string& out, std::string_view value)
{
    append_with(out, 2 + value.size() * longest_escape, [value](Writer& writer) { write_quoted(writer, value); });
}

LogFields::Span LogFields::add_key(std::string_view key, std::size_t value_size)
{
    // One resize for the key and the value to follow it, left uninitialized: both are copied in at once.
    const auto key_size = key.empty() ? 1 : key.size();
    const Span span{text_.size(), key_size};
    text_.resize(span.at + key_size + value_size, boost::container::default_init);
    char* const at = text_.data() + span.at;  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    if (key.empty()) {
        *at = '_';
        return span;
    }
    std::transform(key.begin(), key.end(), at, [](char c) { return is_plain_key_char(c) ? c : '_'; });
    return span;
}

LogFields& LogFields::add(std::string_view key, std::string_view value)
{
    const auto name = add_key(key, value.size());
    const Span span{name.at + name.size, value.size()};
    // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    std::copy(value.begin(), value.end(), text_.data() + span.at);
    fields_.push_back(Field{name, span});
    return *this;
}

LogFields& LogFields::add(std::string_view key, std::int64_t value)
{
    fields_.push_back(Field{add_key(key), value});
    return *this;
}

LogFields& LogFields::add(std::string_view key, double value)
{
    fields_.push_back(Field{add_key(key), value});
    return *this;
}

LogFields& LogFields::add(std::string_view key, bool value)
{
    fields_.push_back(Field{add_key(key), value});
    return *this;
}

std::optional<LogFields::Value> LogFields::find(std::string_view key) const noexcept
{
    for (const auto& field : fields_) {
        if (text(field.key) == key) {
            return std::visit(
                [this](const auto& value) {
                    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Span>) {
                        return Value(text(value));
                    } else {
                        return Value(value);
                    }
                },
                field.value);
        }
    }
    return std::nullopt;
}

void LogFields::append_logfmt(std::string& out) const
{
    // At most: every byte of the keys and string values escaped, and for each field a separator, an '=',
    // two quotes or a number at its longest.
    const auto most = text_.size() * longest_escape + fields_.size() * (3 + longest_scalar);
    append_with(out, most, [this](Writer& writer) {
        bool first = true;
        for (const auto& field : fields_) {
            if (!first) {
                writer.put(' ');
            }
            first = false;
            writer.put(text(field.key));
            writer.put('=');
            if (const auto* span = std::get_if<Span>(&field.value)) {
                write_quoted(writer, text(*span));
            } else {
                write_scalar(writer, field.value);
            }
        }
    });
}

void LogFields::append_json_members(std::string& out) const
{
    bool first = true;
    for (const auto& field : fields_) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += nlohmann::json(text(field.key)).dump();
        out += ':';
        if (const auto* span = std::get_if<Span>(&field.value)) {
            // Invalid UTF-8 (from a raw request path, say) is replaced rather than rejected.
            out += nlohmann::json(text(*span)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
            append_scalar(out, field.value);
        }
    }
}

std::string LogFields::to_logfmt() const
{
    std::string out;
    append_logfmt(out);
    return out;
}

std::string LogFields::to_json_members() const
{
    std::string out;
    append_json_members(out);
    return out;
}

}  // namespace addrservice
