// Property tests of the service layer: entries generated from the schema's own shape go through
// AddressService as a request body would, valid ones come back exactly, invalid ones are refused with
// pointers into what was sent.
#include "addrservice/address_service.hpp"
#include "addrservice/errors.hpp"
#include "addrservice/json_text.hpp"
#include "addrservice/schema.hpp"
#include "addrservice/store/memory_store.hpp"
#include "support/run_task.hpp"

#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace addrservice {
namespace {

namespace bj = boost::json;
using nlohmann::json;
using testing::run_task;

// ---- The schema's shape ----

const json& entry_schema()
{
    static const json schema = json::parse(embedded_schema_text());
    return schema;
}

/// node, or the definition its $ref names.
const json& resolved(const json& node)
{
    if (const auto ref = node.find("$ref"); ref != node.end()) {
        return entry_schema().at(json::json_pointer(ref->get<std::string>().substr(1)));
    }
    return node;
}

/// The types a schema node allows, as its "type" lists them.
std::vector<std::string> types_of(const json& node)
{
    const auto& type = node.at("type");
    return type.is_array() ? type.get<std::vector<std::string>>() : std::vector<std::string>{type.get<std::string>()};
}

std::string joined(const std::vector<std::string>& words, const std::string& separator)
{
    std::string out;
    for (const auto& word : words) {
        out += (out.empty() ? "" : separator) + word;
    }
    return out;
}

// ---- Strings ----

void append_utf8(std::string& out, std::uint32_t c)
{
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

bool is_surrogate(std::uint32_t c)
{
    return c >= 0xD800 && c <= 0xDFFF;
}

/// Characters that try escaping, pointers and UTF-8: plain ASCII, controls, quotes, backslash, '~' and
/// '/', and characters of two, three and four bytes.
rc::Gen<std::uint32_t> gen_character()
{
    return rc::gen::weightedOneOf<std::uint32_t>({
        {6, rc::gen::inRange<std::uint32_t>(0x20, 0x7F)},
        {1, rc::gen::inRange<std::uint32_t>(0x00, 0x20)},
        {2, rc::gen::elementOf(std::vector<std::uint32_t>{'"', '\\', '/', '~', '\'', '[', ']', '0', '1', '@', '.'})},
        {1, rc::gen::inRange<std::uint32_t>(0x80, 0x800)},
        {1, rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(0x800, 0x10000),
                              [](std::uint32_t c) { return !is_surrogate(c); })},
        {1, rc::gen::inRange<std::uint32_t>(0x10000, 0x110000)},
    });
}

std::string utf8(const std::vector<std::uint32_t>& characters)
{
    std::string out;
    for (const auto c : characters) {
        append_utf8(out, c);
    }
    return out;
}

rc::Gen<std::string> gen_string()
{
    return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(gen_character()), utf8);
}

rc::Gen<std::string> gen_string_of(rc::Gen<std::uint32_t> characters)
{
    return rc::gen::map(rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint32_t>>(std::move(characters))), utf8);
}

/// An address is_plausible_email accepts: word.word@label.label, words and labels of any characters but
/// '@', '.', '-', spaces and control characters.
rc::Gen<std::string> gen_email()
{
    const auto part = [](std::uint32_t c) {
        const bool space_or_control = c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 ||
                                      (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
                                      c == 0x205F || c == 0x3000 || c == 0xFEFF;
        return !space_or_control && c != '@' && c != '.' && c != '-';
    };
    return rc::gen::apply(
        [](const std::string& word, const std::string& more, const std::string& domain, const std::string& top,
           bool two_words) { return word + (two_words ? "." + more : "") + "@" + domain + "." + top; },
        gen_string_of(rc::gen::suchThat(gen_character(), part)),
        gen_string_of(rc::gen::suchThat(gen_character(), part)),
        gen_string_of(rc::gen::suchThat(gen_character(), part)),
        gen_string_of(rc::gen::suchThat(gen_character(), part)), rc::gen::arbitrary<bool>());
}

// ---- Numbers ----

/// An exact integer as parse_json_body carries it (json_text.hpp).
bj::value exact_integer(const std::string& text)
{
    return bj::string(exact_integer_marker + text);
}

/// An integer beyond 64 bits either way (21 digits and more), or "-0".
rc::Gen<std::string> gen_big_integer_text()
{
    return rc::gen::weightedOneOf<std::string>({
        {1, rc::gen::just(std::string("-0"))},
        {9, rc::gen::apply(
                [](bool negative, char first, const std::string& rest) {
                    return (negative ? "-" : "") + std::string(1, first) + rest;
                },
                rc::gen::arbitrary<bool>(), rc::gen::inRange('1', static_cast<char>('9' + 1)),
                rc::gen::suchThat(rc::gen::container<std::string>(rc::gen::inRange('0', static_cast<char>('9' + 1))),
                                  [](const std::string& digits) { return digits.size() >= 20; }))},
    });
}

/// Any number the schema allows: int64, uint64 beyond int64, exact integers, finite doubles of any bits.
rc::Gen<bj::value> gen_number()
{
    return rc::gen::oneOf(
        rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t n) { return bj::value(n); }),
        rc::gen::map(rc::gen::arbitrary<std::uint64_t>(), [](std::uint64_t n) { return bj::value(n | (1ULL << 63)); }),
        rc::gen::map(gen_big_integer_text(), exact_integer),
        rc::gen::map(rc::gen::suchThat(rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                                    [](std::uint64_t bits) { return std::bit_cast<double>(bits); }),
                                       [](double d) { return std::isfinite(d); }),
                     [](double d) { return bj::value(d); }),
        rc::gen::map(rc::gen::suchThat(rc::gen::arbitrary<double>(), [](double d) { return std::isfinite(d); }),
                     [](double d) { return bj::value(d); }));
}

// ---- Values from the schema ----

bj::value valid_value(const json& schema_node);

bj::value valid_object(const json& node)
{
    bj::object object;
    const auto required = node.value("required", std::vector<std::string>{});
    for (const auto& [name, property] : node.at("properties").items()) {
        if (std::find(required.begin(), required.end(), name) != required.end() || *rc::gen::arbitrary<bool>()) {
            object[name] = valid_value(property);
        }
    }
    return object;
}

/// A value the schema node accepts, of a type it allows, with every required property and some of the others.
bj::value valid_value(const json& schema_node)
{
    const auto& node = resolved(schema_node);
    if (const auto values = node.find("enum"); values != node.end()) {
        return bj::value(*rc::gen::elementOf(values->get<std::vector<std::string>>()));
    }
    const auto type = *rc::gen::elementOf(types_of(node));
    if (type == "object") {
        return valid_object(node);
    }
    if (type == "array") {
        bj::array array;
        const auto size = *rc::gen::inRange(0, 4);
        for (int i = 0; i < size; ++i) {
            array.push_back(valid_value(node.at("items")));
        }
        return array;
    }
    if (type == "string") {
        return bj::value(node.value("format", "") == "email" ? *gen_email() : *gen_string());
    }
    if (type == "number") {
        return *gen_number();
    }
    RC_FAIL("a type the generators do not know: " + type);
}

bj::value any_value(int depth);

/// An array of up to two values of at most depth levels.
bj::array any_array(int depth)
{
    bj::array array;
    for (int i = *rc::gen::inRange(0, 3); i > 0; --i) {
        array.push_back(any_value(depth));
    }
    return array;
}

/// An object of up to two members, any names, values of at most depth levels.
bj::object any_object(int depth)
{
    bj::object object;
    for (int i = *rc::gen::inRange(0, 3); i > 0; --i) {
        object[*gen_string()] = any_value(depth);
    }
    return object;
}

/// Any JSON value of at most depth levels of arrays and objects.
bj::value any_value(int depth)
{
    switch (*rc::gen::inRange(0, depth > 0 ? 7 : 5)) {
        case 0:
            return nullptr;
        case 1:
            return *rc::gen::arbitrary<bool>();
        case 2:
        case 3:
            return *gen_number();
        case 4:
            return bj::value(*gen_string());
        case 5:
            return any_array(depth - 1);
        default:
            return any_object(depth - 1);
    }
}

// ---- JSON text, written as differently as JSON allows ----

std::string whitespace()
{
    return *rc::gen::elementOf(std::vector<std::string>{"", "", " ", "\n", "\t", " \r\n  "});
}

std::string hex4(std::uint32_t unit)
{
    std::array<char, 8> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), unit, 16).ptr;
    std::string text(digits.data(), end);
    text.insert(0, 4 - text.size(), '0');
    if (*rc::gen::arbitrary<bool>()) {
        std::transform(text.begin(), text.end(), text.begin(),
                       [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
    }
    return "\\u" + text;
}

/// The code points of valid UTF-8.
std::vector<std::uint32_t> code_points(std::string_view text)
{
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        std::uint32_t c = length == 1 ? lead : lead & (0x7FU >> length);
        for (std::size_t k = 1; k < length; ++k) {
            c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3FU);
        }
        out.push_back(c);
        i += length;
    }
    return out;
}

/// A JSON string for text: each character as it is where JSON allows, or escaped, at random.
std::string string_text(std::string_view text)
{
    constexpr std::string_view escaped = "\"\\/\b\f\n\r\t";
    constexpr std::string_view escapes = "\"\\/bfnrt";
    std::string out = "\"";
    for (const auto c : code_points(text)) {
        const bool must_escape = c < 0x20 || c == '"' || c == '\\';
        const auto style = *rc::gen::inRange(must_escape ? 1 : 0, 3);
        const auto short_escape = c < 0x80 ? escaped.find(static_cast<char>(c)) : std::string_view::npos;
        if (style == 0) {
            append_utf8(out, c);
        } else if (style == 1 && short_escape != std::string_view::npos) {
            out += '\\';
            out += escapes[short_escape];
        } else if (c >= 0x10000) {
            out += hex4(0xD800 + ((c - 0x10000) >> 10)) + hex4(0xDC00 + ((c - 0x10000) & 0x3FF));
        } else {
            out += hex4(c);
        }
    }
    return out + "\"";
}

template <typename Number>
std::string number_text(Number number)
{
    std::array<char, 32> digits{};
    return {digits.data(), std::to_chars(digits.data(), digits.data() + digits.size(), number).ptr};
}

/// A double's text that reads back as that double: shortest or all 17 digits, always with a fraction or
/// an exponent so it stays a double.
std::string double_text(double number)
{
    std::array<char, 64> digits{};
    const auto end =
        *rc::gen::arbitrary<bool>()
            ? std::to_chars(digits.data(), digits.data() + digits.size(), number).ptr
            : std::to_chars(digits.data(), digits.data() + digits.size(), number, std::chars_format::scientific, 16)
                  .ptr;
    std::string text(digits.data(), end);
    if (text.find_first_of(".e") == std::string::npos) {
        text += *rc::gen::element<std::string>(".0", "e0", "E+0", ".000");
    }
    return text;
}

/// The JSON text of a value, with whitespace, member order and escapes chosen at random.
std::string json_text(const bj::value& value)
{
    switch (value.kind()) {
        case bj::kind::null:
            return "null";
        case bj::kind::bool_:
            return value.get_bool() ? "true" : "false";
        case bj::kind::int64:
            return number_text(value.get_int64());
        case bj::kind::uint64:
            return number_text(value.get_uint64());
        case bj::kind::double_:
            return double_text(value.get_double());
        case bj::kind::string:
            if (const auto digits = exact_integer_text(value); !digits.empty()) {
                return std::string(digits);
            }
            return string_text(value.get_string());
        case bj::kind::array: {
            std::string out = "[" + whitespace();
            bool first = true;
            for (const auto& item : value.get_array()) {
                out += (first ? "" : "," + whitespace()) + json_text(item) + whitespace();
                first = false;
            }
            return out + "]";
        }
        case bj::kind::object: {
            const auto& object = value.get_object();
            std::vector<const bj::key_value_pair*> members;
            for (const auto& member : object) {
                members.push_back(&member);
            }
            const auto order = *rc::gen::container<std::vector<int>>(members.size(), rc::gen::arbitrary<int>());
            std::vector<std::size_t> positions(members.size());
            std::iota(positions.begin(), positions.end(), 0);
            std::stable_sort(positions.begin(), positions.end(),
                             [&order](std::size_t a, std::size_t b) { return order[a] < order[b]; });
            std::string out = "{" + whitespace();
            bool first = true;
            for (const auto position : positions) {
                out += (first ? "" : "," + whitespace()) + string_text(members[position]->key()) + whitespace() + ":" +
                       whitespace() + json_text(members[position]->value()) + whitespace();
                first = false;
            }
            return out + "}";
        }
    }
    return {};
}

// ---- Checking ----

/// Equal as JSON values, and more: the same kind of number, doubles to the bit, strings to the byte.
bool same_value(const bj::value& a, const bj::value& b)
{
    if (a.kind() != b.kind()) {
        return false;
    }
    switch (a.kind()) {
        case bj::kind::double_:
            return std::bit_cast<std::uint64_t>(a.get_double()) == std::bit_cast<std::uint64_t>(b.get_double());
        case bj::kind::array: {
            const auto& x = a.get_array();
            const auto& y = b.get_array();
            return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_value);
        }
        case bj::kind::object: {
            const auto& x = a.get_object();
            const auto& y = b.get_object();
            return x.size() == y.size() && std::all_of(x.begin(), x.end(), [&y](const bj::key_value_pair& member) {
                       const auto* other = y.if_contains(member.key());
                       return other != nullptr && same_value(member.value(), *other);
                   });
        }
        default:
            return a == b;
    }
}

/// A JSON pointer to path (RFC 6901), written here independently of the service's own.
std::string pointer_to(const std::vector<std::string>& path)
{
    std::string pointer;
    for (const auto& token : path) {
        pointer += '/';
        for (const char c : token) {
            pointer += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        }
    }
    return pointer;
}

/// A place in a generated document and the schema node that applies there.
struct Place {
    std::vector<std::string> path;
    const json* schema;
};

void collect_places(const bj::value& value, const json& schema_node, std::vector<std::string>& path,
                    std::vector<Place>& out)
{
    const auto& node = resolved(schema_node);
    out.push_back({path, &node});
    if (const auto* object = value.if_object()) {
        for (const auto& member : *object) {
            path.emplace_back(member.key());
            collect_places(member.value(), node.at("properties").at(std::string(member.key())), path, out);
            path.pop_back();
        }
    } else if (const auto* array = value.if_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) {
            path.push_back(std::to_string(i));
            collect_places((*array)[i], node.at("items"), path, out);
            path.pop_back();
        }
    }
}

std::vector<Place> places_of(const bj::value& document)
{
    std::vector<Place> places;
    std::vector<std::string> path;
    collect_places(document, entry_schema(), path, places);
    return places;
}

bj::value& value_at(bj::value& document, const std::vector<std::string>& path)
{
    bj::value* node = &document;
    for (const auto& token : path) {
        node = node->is_object() ? &node->as_object().at(token) : &node->as_array().at(std::stoul(token));
    }
    return *node;
}

/// A document the schema refuses, and one violation it must be refused for.
struct InvalidEntry {
    bj::value document;
    Violation expected;
};

void showValue(const InvalidEntry& entry, std::ostream& os)
{
    os << canonical_json(entry.document) << "\nmust be refused at " << entry.expected.pointer << ": "
       << entry.expected.message;
}

/// A value whose type the schema node does not allow.
bj::value wrongly_typed_value(const json& node)
{
    const auto allowed = types_of(node);
    std::vector<std::string> others;
    for (const char* type : {"null", "boolean", "number", "string", "array", "object"}) {
        if (std::find(allowed.begin(), allowed.end(), type) == allowed.end()) {
            others.emplace_back(type);
        }
    }
    const auto type = *rc::gen::elementOf(others);
    if (type == "null") {
        return nullptr;
    }
    if (type == "boolean") {
        return *rc::gen::arbitrary<bool>();
    }
    if (type == "number") {
        return *gen_number();
    }
    if (type == "string") {
        return bj::value(*gen_string());
    }
    return type == "array" ? bj::value(any_array(1)) : bj::value(any_object(1));
}

InvalidEntry invalid_entry()
{
    auto document = valid_value(entry_schema());
    const auto places = places_of(document);
    std::vector<Place> objects;
    std::vector<Place> kinds;
    for (const auto& place : places) {
        if (place.schema->contains("properties") && value_at(document, place.path).is_object()) {
            objects.push_back(place);
        }
        if (place.schema->contains("enum")) {
            kinds.push_back(place);
        }
    }
    switch (*rc::gen::inRange(0, kinds.empty() ? 3 : 4)) {
        case 0: {
            const auto place = *rc::gen::elementOf(places);
            value_at(document, place.path) = wrongly_typed_value(*place.schema);
            return {std::move(document),
                    {pointer_to(place.path), "must be of type " + joined(types_of(*place.schema), " or ")}};
        }
        case 1: {
            const auto place = *rc::gen::elementOf(objects);
            auto& object = value_at(document, place.path).as_object();
            const auto name = *rc::gen::suchThat(gen_string(), [&](const std::string& candidate) {
                return !place.schema->at("properties").contains(candidate) && !object.contains(candidate);
            });
            object[name] = any_value(2);
            auto path = place.path;
            path.push_back(name);
            return {std::move(document), {pointer_to(path), "unknown property '" + name + "'"}};
        }
        case 2: {
            const auto place = *rc::gen::elementOf(objects);
            const auto name = *rc::gen::elementOf(place.schema->at("required").get<std::vector<std::string>>());
            value_at(document, place.path).as_object().erase(name);
            return {std::move(document), {pointer_to(place.path), "missing required property '" + name + "'"}};
        }
        default: {
            const auto place = *rc::gen::elementOf(kinds);
            const auto allowed = place.schema->at("enum").get<std::vector<std::string>>();
            value_at(document, place.path) = bj::value(*rc::gen::suchThat(gen_string(), [&](const std::string& kind) {
                return std::find(allowed.begin(), allowed.end(), kind) == allowed.end();
            }));
            return {std::move(document), {pointer_to(place.path), "must be one of " + joined(allowed, ", ")}};
        }
    }
}

/// The violations creating an entry from body reports (and none when it was created).
std::vector<Violation> create_violations(AddressService& service, std::string body)
{
    try {
        run_task(service.create(std::move(body)));
    } catch (const SchemaValidationError& e) {
        return e.violations();
    }
    return {};
}

// ---- Properties ----

RC_GTEST_PROP(EntryProperty, ValidEntriesComeBackExactly, ())
{
    const auto entry = *rc::gen::exec([] { return valid_value(entry_schema()); });
    const auto body = *rc::gen::exec([entry] { return whitespace() + json_text(entry) + whitespace(); });
    AddressService service(std::make_shared<MemoryStore>());

    const auto id = run_task(service.create(body));
    const auto stored = run_task(service.get(id))->json;
    RC_ASSERT(same_value(parse_json_body(stored), entry));
    RC_ASSERT(service.normalise(stored) == stored);
    RC_ASSERT(service.normalise(body) == stored);
}

RC_GTEST_PROP(EntryProperty, InvalidEntriesAreRefusedWithPointersIntoTheBody, ())
{
    const auto invalid = *rc::gen::exec(invalid_entry);
    const auto body = *rc::gen::exec([invalid] { return json_text(invalid.document); });
    auto store = std::make_shared<MemoryStore>();
    AddressService service(store);

    const auto violations = create_violations(service, body);
    RC_ASSERT(std::find(violations.begin(), violations.end(), invalid.expected) != violations.end());
    for (const auto& violation : violations) {
        bj::error_code ec;
        RC_ASSERT(invalid.document.find_pointer(violation.pointer, ec) != nullptr);
    }
    RC_ASSERT(store->size() == 0U);
}

RC_GTEST_PROP(EntryProperty, ThePrecheckChangesNoAnswer, ())
{
    const auto document = *rc::gen::exec([] {
        switch (*rc::gen::inRange(0, 3)) {
            case 0:
                return valid_value(entry_schema());
            case 1:
                return invalid_entry().document;
            default:
                return any_value(3);
        }
    });
    static const SchemaValidator prechecked(embedded_schema_text(), SchemaValidator::Precheck::on);
    static const SchemaValidator unchecked(embedded_schema_text(), SchemaValidator::Precheck::off);

    // Through JSON text, so that integers beyond 64 bits are the service's exact integers.
    const auto body = parse_json_body(json_text(document));
    RC_ASSERT(prechecked.validate(body) == unchecked.validate(body));
}

RC_GTEST_PROP(EntryProperty, CutOrCorruptedTextIsInvalidJson, ())
{
    const auto entry = *rc::gen::exec([] { return valid_value(entry_schema()); });
    const auto text = *rc::gen::exec([entry] { return json_text(entry); });
    AddressService service(std::make_shared<MemoryStore>());

    const auto cut = *rc::gen::inRange<std::size_t>(0, text.size());
    RC_ASSERT_THROWS_AS(service.normalise(text.substr(0, cut)), InvalidJsonError);
    // A byte UTF-8 never holds: it cannot pass as text, nor forge an exact integer's marker.
    auto corrupted = text;
    corrupted.insert(*rc::gen::inRange<std::size_t>(0, text.size() + 1), 1, exact_integer_marker);
    RC_ASSERT_THROWS_AS(service.normalise(corrupted), InvalidJsonError);
}

}  // namespace
}  // namespace addrservice
