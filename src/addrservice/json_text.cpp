#include "addrservice/json_text.hpp"

#include "addrservice/errors.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace addrservice {

namespace {

namespace json = boost::json;

/// Builds values from the parser's events, as Boost.JSON's own parser does, except for two kinds of
/// number, since what was stored must come back value for value: an integer that fits no 64-bit type
/// (the parser would round it to a double), and "-0", become exact integers; a number with a fraction
/// or an exponent is read from its text with std::from_chars, which rounds correctly (the parser's own
/// conversion of Boost 1.81 can be one unit in the last place off).
class ValueBuilder {
public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    /// The values made live in storage.
    explicit ValueBuilder(json::storage_ptr storage) { values_.reset(std::move(storage)); }

    json::value release() { return values_.release(); }

    /// How many object members the text held: more than the value has when a key came twice in one
    /// object (Boost.JSON keeps the last).
    [[nodiscard]] std::size_t members() const noexcept { return members_; }

    bool on_document_begin(json::error_code& /*ec*/) { return true; }
    bool on_document_end(json::error_code& /*ec*/) { return true; }
    bool on_object_begin(json::error_code& /*ec*/) { return true; }
    bool on_object_end(std::size_t size, json::error_code& /*ec*/)
    {
        values_.push_object(size);
        members_ += size;
        return true;
    }
    bool on_array_begin(json::error_code& /*ec*/) { return true; }
    bool on_array_end(std::size_t size, json::error_code& /*ec*/)
    {
        values_.push_array(size);
        return true;
    }
    bool on_key_part(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/)
    {
        values_.push_chars(part);
        return true;
    }
    bool on_key(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/)
    {
        values_.push_key(part);
        return true;
    }
    bool on_string_part(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/)
    {
        values_.push_chars(part);
        return true;
    }
    bool on_string(json::string_view part, std::size_t /*size*/, json::error_code& /*ec*/)
    {
        values_.push_string(part);
        return true;
    }
    bool on_number_part(json::string_view part, json::error_code& /*ec*/)
    {
        number_.append(part.data(), part.size());
        return true;
    }
    bool on_int64(std::int64_t number, json::string_view part, json::error_code& /*ec*/)
    {
        if (number == 0) {
            number_.append(part.data(), part.size());
            // "-0": an int64 cannot tell it from 0.
            if (number_.front() == '-') {
                push_exact_integer();
                return true;
            }
        }
        number_.clear();
        values_.push_int64(number);
        return true;
    }
    bool on_uint64(std::uint64_t number, json::string_view /*part*/, json::error_code& /*ec*/)
    {
        number_.clear();
        values_.push_uint64(number);
        return true;
    }
    bool on_double(double approximate, json::string_view part, json::error_code& /*ec*/)
    {
        number_.append(part.data(), part.size());
        if (number_.find_first_of(".eE") == std::string::npos) {
            push_exact_integer();
            return true;
        }
        double exact = 0.0;
        const auto [end, error] = std::from_chars(number_.data(), number_.data() + number_.size(), exact);
        if (error == std::errc()) {
            values_.push_double(exact);
        } else if (approximate == 0.0 &&
                   has_nonzero_digit(std::string_view(number_).substr(0, number_.find_first_of("eE")))) {
            // Too small for a double (1e-400): not a number a double holds, which the schema check reports
            // as out of range, as it does the parser's infinity for one too large. Zero would lose it.
            values_.push_double(std::numeric_limits<double>::quiet_NaN());
        } else {
            values_.push_double(approximate);  // too large: the parser's infinity; or a subnormal
        }
        number_.clear();
        return true;
    }
    bool on_bool(bool value, json::error_code& /*ec*/)
    {
        values_.push_bool(value);
        return true;
    }
    bool on_null(json::error_code& /*ec*/)
    {
        values_.push_null();
        return true;
    }
    bool on_comment_part(json::string_view /*part*/, json::error_code& /*ec*/) { return true; }
    bool on_comment(json::string_view /*part*/, json::error_code& /*ec*/) { return true; }

private:
    static bool has_nonzero_digit(std::string_view digits) noexcept
    {
        return digits.find_first_of("123456789") != std::string_view::npos;
    }

    /// Pushes the integer whose text number_ holds as an exact integer.
    void push_exact_integer()
    {
        number_.insert(number_.begin(), exact_integer_marker);
        values_.push_string(number_);
        number_.clear();
    }

    json::value_stack values_;
    std::size_t members_ = 0;
    std::string number_;  // the text of the number being read, when it comes in parts
};

/// Orders object member names as std::string_view does (bytes as unsigned), the order of canonical text,
/// deciding most pairs by their first byte without a call to memcmp. The canonical writer's sort calls it
/// for every pair it compares.
bool name_less(std::string_view a, std::string_view b) noexcept
{
    if (!a.empty() && !b.empty() && a.front() != b.front()) {
        return static_cast<unsigned char>(a.front()) < static_cast<unsigned char>(b.front());
    }
    return a < b;
}

bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr std::uint64_t byte_ones = 0x0101010101010101ULL;

/// True when one of the eight bytes of word is '"' or '\\', or below 0x20: such a byte sets its high
/// bit in one of the three terms (the "has zero byte" and "has byte less than" tests, which are exact as
/// to whether a word holds one).
bool word_needs_escape(std::uint64_t word) noexcept
{
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const std::uint64_t quotes = word ^ (byte_ones * '"');
    const std::uint64_t backslashes = word ^ (byte_ones * '\\');
    return ((((quotes - byte_ones) & ~quotes) | ((backslashes - byte_ones) & ~backslashes) |
             ((word - byte_ones * 0x20U) & ~word)) &
            highs) != 0;
}

/// Writes canonical JSON text, sorting each object's keys in one scratch list shared by the whole value.
/// The text is written through a cursor into out's own storage, grown ahead of each write (std::string's
/// check per appended character cost more than the rest of the writing); finish() cuts it to length.
class CanonicalWriter {
public:
    CanonicalWriter(std::string& out, std::size_t size_hint) : out_(out)
    {
        // Room past the hint for the widest number the last write may ask for, so that text as long as
        // the hint never grows the string (and finish() never gives back what growing doubled).
        out_.resize(size_hint + room_past_hint);
    }

    void write(const json::value& value)
    {
        switch (value.kind()) {
            case json::kind::object:
                write_object(value.get_object());
                break;
            case json::kind::array: {
                const auto& array = value.get_array();
                put('[');
                for (std::size_t i = 0; i < array.size(); ++i) {
                    if (i != 0) {
                        put(',');
                    }
                    write(array[i]);
                }
                put(']');
                break;
            }
            case json::kind::string:
                if (const json::string_view text = value.get_string(); is_exact_integer(text)) {
                    put(text.substr(1));
                } else {
                    write_string(text);
                }
                break;
            case json::kind::int64:
                write_number(value.get_int64());
                break;
            case json::kind::uint64:
                write_number(value.get_uint64());
                break;
            case json::kind::double_:
                write_double(value.get_double());
                break;
            case json::kind::bool_:
                put(value.get_bool() ? "true" : "false");
                break;
            case json::kind::null:
                put("null");
                break;
        }
    }

    /// Cuts the text to length; when it grew past the hint, gives back what doubling left unused (the text
    /// is kept, by the stores, as long as the entry is).
    void finish()
    {
        out_.resize(used_);
        if (out_.capacity() - used_ > used_ / 8 + 32) {
            out_.shrink_to_fit();
        }
    }

private:
    /// Makes room for count more characters after the cursor.
    void room(std::size_t count)
    {
        if (out_.size() - used_ < count) {
            out_.resize(std::max(out_.size() * 2, used_ + count));
        }
    }

    void put(char c)
    {
        room(1);
        out_[used_++] = c;
    }

    void put(std::string_view text)
    {
        room(text.size());
        std::memcpy(out_.data() + used_, text.data(), text.size());
        used_ += text.size();
    }

    void write_object(const json::object& object)
    {
        const std::size_t first = members_.size();
        for (const auto& member : object) {
            members_.push_back(&member);
        }
        const auto begin = members_.begin() + static_cast<std::ptrdiff_t>(first);
        std::sort(begin, members_.end(), [](const json::key_value_pair* a, const json::key_value_pair* b) {
            return name_less(a->key(), b->key());
        });
        put('{');
        // By index: writing a member's value may grow the list.
        for (std::size_t i = first; i < first + object.size(); ++i) {
            if (i != first) {
                put(',');
            }
            write_string(members_[i]->key());
            put(':');
            write(members_[i]->value());
        }
        put('}');
        members_.resize(first);
    }

    void write_string(json::string_view text)
    {
        // Most strings need no escape: copied between quotes eight bytes at a time, each word tested as it
        // goes. The last word of a string of eight bytes or more is its last eight bytes (some tested
        // already, which is harmless); a shorter string goes a byte at a time. Words are loaded whole: a
        // word assembled by a copy of fewer bytes stalled its load (perf).
        constexpr std::size_t word_size = sizeof(std::uint64_t);
        const std::size_t size = text.size();
        room(size + 2);
        char* const to = out_.data() + used_ + 1;
        std::uint64_t word = 0;
        if (size >= word_size) {
            for (std::size_t at = 0; at + word_size <= size; at += word_size) {
                std::memcpy(&word, text.data() + at, word_size);
                if (word_needs_escape(word)) {
                    write_escaped(text);
                    return;
                }
                std::memcpy(to + at, &word, word_size);
            }
            std::memcpy(&word, text.data() + size - word_size, word_size);
            if (word_needs_escape(word)) {
                write_escaped(text);
                return;
            }
            std::memcpy(to + size - word_size, &word, word_size);
        } else {
            for (std::size_t at = 0; at < size; ++at) {
                const char c = text[at];
                if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
                    write_escaped(text);
                    return;
                }
                to[at] = c;
            }
        }
        to[-1] = '"';
        to[size] = '"';
        used_ += size + 2;
    }

    void write_escaped(json::string_view text)
    {
        serializer_.reset(text);
        std::array<char, 256> buffer{};
        while (!serializer_.done()) {
            const auto part = serializer_.read(buffer.data(), buffer.size());
            put(std::string_view(part.data(), part.size()));
        }
    }

    template <typename Integer>
    void write_number(Integer number)
    {
        room(longest_number);
        const auto [end, error] = std::to_chars(out_.data() + used_, out_.data() + used_ + longest_number, number);
        used_ = static_cast<std::size_t>(end - out_.data());
    }

    void write_double(double number)
    {
        if (!std::isfinite(number)) {
            throw std::invalid_argument("a number JSON cannot carry: infinite or NaN");
        }
        std::array<char, longest_number> buffer{};
        const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
        const std::string_view text(buffer.data(), static_cast<std::size_t>(end - buffer.data()));
        if (text.find_first_of(".e") != std::string_view::npos) {
            put(text);
            return;
        }
        // Keep a double a double when read back: 100.0, not 100. to_chars took the fixed form over the
        // scientific one of the same length, spelling out the double's exact digits (123456789012344992 for
        // 1.23456789012345e17); with ".0" the scientific form may be the shorter, and when it is not, the
        // fixed form is written from its shortest digits, padded with zeros to the same length
        // (123456789012345000.0), so that no digit appears that the shortest form does not need.
        std::array<char, longest_number> scientific_buffer{};
        const auto [scientific_end, scientific_error] =
            std::to_chars(scientific_buffer.data(), scientific_buffer.data() + scientific_buffer.size(), number,
                          std::chars_format::scientific);
        const std::string_view scientific(scientific_buffer.data(),
                                          static_cast<std::size_t>(scientific_end - scientific_buffer.data()));
        if (scientific.size() < text.size() + 2) {
            put(scientific);
            return;
        }
        // scientific is [-]d[.ddd]e+XX: an integer's exponent is never negative.
        const auto e_at = scientific.find('e');
        std::size_t digits = 0;
        for (const char c : scientific.substr(0, e_at)) {
            if (c != '.') {
                put(c);
                digits += c == '-' ? 0 : 1;
            }
        }
        int exponent = 0;
        const auto exponent_text = scientific.substr(e_at + 2);
        std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
        for (auto zeros = static_cast<std::size_t>(exponent) + 1; zeros > digits; --zeros) {
            put('0');
        }
        put(".0");
    }

    static constexpr std::size_t longest_number = 32;  // to_chars of any integer or double fits
    static constexpr std::size_t room_past_hint = 2 * longest_number;

    std::string& out_;
    std::size_t used_ = 0;  // how much of out_ holds text; the rest is room
    json::serializer serializer_;
    std::vector<const json::key_value_pair*> members_;
};

/// How many members the objects of a value hold, all levels counted.
std::size_t members_of(const json::value& value) noexcept
{
    std::size_t count = 0;
    if (const auto* object = value.if_object()) {
        count = object->size();
        for (const auto& member : *object) {
            count += members_of(member.value());
        }
    } else if (const auto* array = value.if_array()) {
        for (const auto& item : *array) {
            count += members_of(item);
        }
    }
    return count;
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

/// The text with every exponent of 2^30 or more written as 2^30 - 1, zeros before it keeping the text's
/// length (so that a byte named in an error is where it was). Boost.JSON's parser counts an exponent, and
/// the digits that move the decimal point, in an int, and refuses a number past that as if it were not
/// JSON. Either exponent puts any number whose digits are not all zeros out of a double's range on the same
/// side (only a number of about a gigabyte of digits could tell them apart), and a zero stays zero.
std::string with_exponents_in_range(std::string_view text)
{
    constexpr std::string_view stand_in = "1073741823";
    std::string out(text);
    bool in_string = false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const char c = out[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        // Outside strings, an 'e' after a digit starts an exponent (true and false have letters before theirs).
        if ((c != 'e' && c != 'E') || i == 0 || !is_digit(out[i - 1])) {
            continue;
        }
        std::size_t begin = i + 1;
        if (begin < out.size() && (out[begin] == '+' || out[begin] == '-')) {
            ++begin;
        }
        std::size_t end = begin;
        while (end < out.size() && is_digit(out[end])) {
            ++end;
        }
        std::size_t first = begin;  // the first digit that is not a leading zero
        while (first < end && out[first] == '0') {
            ++first;
        }
        const std::string_view digits(out.data() + first, end - first);
        if (digits.size() > stand_in.size() || (digits.size() == stand_in.size() && digits > stand_in)) {
            std::fill_n(out.data() + begin, end - begin, '0');
            stand_in.copy(out.data() + end - stand_in.size(), stand_in.size());
        }
        i = end - 1;
    }
    return out;
}

}  // namespace

json::value parse_json_body(std::string_view text, json::storage_ptr storage, std::size_t max_depth)
{
    json::parse_options options;
    options.max_depth = max_depth;
    json::basic_parser<ValueBuilder> parser(options, storage);
    json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (ec == json::error::exponent_overflow) {
        // Rare: parsed again, once, from a copy whose exponents the parser can count.
        if (const auto in_range = with_exponents_in_range(text); in_range != text) {
            return parse_json_body(in_range, std::move(storage), max_depth);
        }
    }
    if (ec == json::error::too_deep) {
        throw InvalidJsonError("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    }
    if (ec) {
        throw InvalidJsonError("invalid JSON at byte " + std::to_string(used) + ": " + ec.message());
    }
    if (!std::all_of(text.begin() + static_cast<std::ptrdiff_t>(used), text.end(), is_space)) {
        throw InvalidJsonError("invalid JSON at byte " + std::to_string(used) + ": text after the value");
    }
    auto value = parser.handler().release();
    if (members_of(value) != parser.handler().members()) {
        // RFC 8259 leaves what a name given twice means to the reader: keeping one would lose the other.
        throw InvalidJsonError("an object holds the same name twice");
    }
    return value;
}

std::string_view exact_integer_text(const json::value& value) noexcept
{
    const auto* text = value.if_string();
    if (text == nullptr || !is_exact_integer(*text)) {
        return {};
    }
    return {text->data() + 1, text->size() - 1};
}

std::string canonical_json(const json::value& value, std::size_t size_hint)
{
    std::string out;
    CanonicalWriter writer(out, size_hint);
    writer.write(value);
    writer.finish();
    return out;
}

void append_pointer_token(std::string& pointer, std::string_view key)
{
    pointer += '/';
    if (key.find_first_of("~/") == std::string_view::npos) {
        pointer += key;
        return;
    }
    for (const char c : key) {
        if (c == '~') {
            pointer += "~0";
        } else if (c == '/') {
            pointer += "~1";
        } else {
            pointer += c;
        }
    }
}

}  // namespace addrservice
