#include "checks.hpp"
#include "logfmt_reader.hpp"

#include "addrservice/logfmt.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace addrservice::fuzz {

namespace {

constexpr char field_separator = '\x1e';
constexpr char value_separator = '\x1f';

/// A field's value as the input gave it.
using Written = std::variant<std::string, std::int64_t, double, bool>;

/// A number's value: its decimal text when that is all it is, else its bytes (zero-padded, little-endian).
template <typename Number>
Number number_from(std::string_view text)
{
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && error == std::errc() && end == text.data() + text.size()) {
        return value;
    }
    std::array<char, sizeof(Number)> bytes{};
    std::copy_n(text.begin(), std::min(text.size(), bytes.size()), bytes.begin());
    std::memcpy(&value, bytes.data(), sizeof(Number));
    return value;
}

/// The fields the input describes (see check_logfmt in checks.hpp), with the keys as given.
std::vector<std::pair<std::string, Written>> fields_from(std::string_view input)
{
    std::vector<std::pair<std::string, Written>> fields;
    while (!input.empty()) {
        const auto record = input.substr(0, input.find(field_separator));
        input.remove_prefix(std::min(input.size(), record.size() + 1));
        if (record.empty()) {
            continue;
        }
        const char type = record.front();
        const auto rest = record.substr(1);
        const auto split = rest.find(value_separator);
        const auto key = rest.substr(0, split);
        const auto value = split == std::string_view::npos ? std::string_view{} : rest.substr(split + 1);
        switch (type) {
            case 'i':
                fields.emplace_back(key, number_from<std::int64_t>(value));
                break;
            case 'd':
                fields.emplace_back(key, number_from<double>(value));
                break;
            case 'b':
                fields.emplace_back(key, !value.empty() && (static_cast<unsigned char>(value.front()) & 1U) != 0);
                break;
            default:
                fields.emplace_back(key, std::string(value));
                break;
        }
    }
    return fields;
}

[[noreturn]] void fail(const std::string& what, const std::string& line)
{
    throw Finding("logfmt: " + what + "\n  line: " + line);
}

/// A double as the writer prints it: three decimals, so it reads back within half a thousandth.
bool reads_back_as(double written, double read) noexcept
{
    const double tolerance = 0.0005 + std::abs(written) * std::numeric_limits<double>::epsilon() * 4;
    return std::abs(written - read) <= tolerance;
}

void check_logfmt_value(const Written& written, const LogfmtValue& read, const std::string& line)
{
    if (const auto* text = std::get_if<std::string>(&written)) {
        if (!read.quoted || read.text != as_logged(*text)) {
            fail("string value \"" + *text + "\" read back as " + read.text, line);
        }
        return;
    }
    if (read.quoted) {
        fail("a number or boolean was quoted: " + read.text, line);
    }
    if (const auto* integer = std::get_if<std::int64_t>(&written)) {
        if (read.text != std::to_string(*integer)) {
            fail("integer " + std::to_string(*integer) + " read back as " + read.text, line);
        }
    } else if (const auto* real = std::get_if<double>(&written)) {
        if (!std::isfinite(*real)) {
            if (read.text != "null") {
                fail("a non-finite double read back as " + read.text, line);
            }
            return;
        }
        double value = 0;
        const auto [end, error] = std::from_chars(read.text.data(), read.text.data() + read.text.size(), value);
        if (error != std::errc() || end != read.text.data() + read.text.size() || !reads_back_as(*real, value)) {
            fail("double " + std::to_string(*real) + " read back as " + read.text, line);
        }
    } else if (const auto* flag = std::get_if<bool>(&written)) {
        if (read.text != (*flag ? "true" : "false")) {
            fail("boolean read back as " + read.text, line);
        }
    }
}

/// Collects the members of one flat JSON object, in order, duplicates kept.
class MemberCollector : public nlohmann::json_sax<nlohmann::json> {
public:
    std::vector<std::pair<std::string, nlohmann::json>> members;
    bool nested = false;

    bool null() override { return value(nullptr); }
    bool boolean(bool flag) override { return value(flag); }
    bool number_integer(number_integer_t number) override { return value(number); }
    bool number_unsigned(number_unsigned_t number) override { return value(number); }
    bool number_float(number_float_t number, const string_t& /*text*/) override { return value(number); }
    bool string(string_t& text) override { return value(text); }
    bool binary(binary_t& /*bytes*/) override { return nested_value(); }
    bool start_object(std::size_t /*size*/) override { return depth_++ == 0 || nested_value(); }
    bool key(string_t& key) override
    {
        key_ = key;
        return true;
    }
    bool end_object() override
    {
        --depth_;
        return true;
    }
    bool start_array(std::size_t /*size*/) override { return nested_value(); }
    bool end_array() override { return true; }
    bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                     const nlohmann::detail::exception& /*error*/) override
    {
        return false;
    }

private:
    bool value(nlohmann::json json)
    {
        members.emplace_back(key_, std::move(json));
        return true;
    }
    bool nested_value()
    {
        nested = true;
        return false;
    }

    std::string key_;
    int depth_ = 0;
};

bool is_valid_utf8(std::string_view text)
{
    // nlohmann's strict dump throws on invalid UTF-8; the writer replaces it instead.
    try {
        static_cast<void>(nlohmann::json(std::string(text)).dump());
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

void check_json_value(const Written& written, const nlohmann::json& read, const std::string& object)
{
    auto mismatch = [&] { throw Finding("json members: " + read.dump() + " is not what was written\n  " + object); };
    if (const auto* text = std::get_if<std::string>(&written)) {
        if (!read.is_string() || (is_valid_utf8(*text) && read.get<std::string>() != *text)) {
            mismatch();
        }
    } else if (const auto* integer = std::get_if<std::int64_t>(&written)) {
        if (!read.is_number_integer() || read.get<std::int64_t>() != *integer) {
            mismatch();
        }
    } else if (const auto* real = std::get_if<double>(&written)) {
        if (std::isfinite(*real) ? !read.is_number() || !reads_back_as(*real, read.get<double>()) : !read.is_null()) {
            mismatch();
        }
    } else if (const auto* flag = std::get_if<bool>(&written)) {
        if (!read.is_boolean() || read.get<bool>() != *flag) {
            mismatch();
        }
    }
}

}  // namespace

void check_logfmt(std::string_view input)
{
    const auto given = fields_from(input);
    LogFields fields;
    for (const auto& [key, value] : given) {
        std::visit([&fields, &key](const auto& v) { fields.add(key, v); }, value);
    }

    const auto line = fields.to_logfmt();
    if (line.find_first_of("\r\n") != std::string::npos) {
        fail("a raw line break in the line", line);
    }
    if (as_logged(line) != line) {
        fail("the line is not UTF-8", line);
    }
    for (const std::string_view line_end : {"\xC2\x85", "\xE2\x80\xA8", "\xE2\x80\xA9"}) {
        if (line.find(line_end) != std::string::npos) {
            fail("a raw character that some readers take for a line end", line);
        }
    }
    const auto read = read_logfmt(line);
    if (!read) {
        fail("the line does not read back as logfmt", line);
    }
    if (read->size() != given.size()) {
        fail(std::to_string(given.size()) + " fields written, " + std::to_string(read->size()) + " read back", line);
    }
    for (std::size_t i = 0; i < given.size(); ++i) {
        const auto expected_key = sanitize_log_key(given[i].first);
        if ((*read)[i].first != expected_key) {
            fail("key " + expected_key + " read back as " + (*read)[i].first, line);
        }
        check_logfmt_value(given[i].second, (*read)[i].second, line);
    }

    const auto object = "{" + fields.to_json_members() + "}";
    MemberCollector members;
    if (!nlohmann::json::sax_parse(object, &members) || members.nested) {
        throw Finding("json members: not a flat JSON object\n  " + object);
    }
    if (members.members.size() != given.size()) {
        throw Finding("json members: " + std::to_string(given.size()) + " written, " +
                      std::to_string(members.members.size()) + " read back\n  " + object);
    }
    for (std::size_t i = 0; i < given.size(); ++i) {
        if (members.members[i].first != sanitize_log_key(given[i].first)) {
            throw Finding("json members: key " + members.members[i].first + " is not what was written\n  " + object);
        }
        check_json_value(given[i].second, members.members[i].second, object);
    }
}

}  // namespace addrservice::fuzz
