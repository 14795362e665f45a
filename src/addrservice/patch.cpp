#include "addrservice/patch.hpp"

#include "addrservice/errors.hpp"
#include "addrservice/json_text.hpp"

#include <boost/json/value.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace addrservice {

namespace {

using Json = nlohmann::json;
using Pointer = Json::json_pointer;

/// A number kept as its text. It is held as a binary value, which no JSON text parses to, so it cannot
/// be mistaken for anything else; nlohmann compares it equal to the same text only (a test compares
/// numbers by value: same_value).
Json number_text(const std::string& text)
{
    return Json::binary(std::vector<std::uint8_t>(text.begin(), text.end()));
}

bool is_integer_literal(std::string_view text) noexcept
{
    return text.find_first_of(".eE") == std::string_view::npos;
}

/// A number's value as a test compares it: the digits of an integer (of any size), or a double.
struct NumberValue {
    std::optional<std::string> integer;  // digits with their sign, "-0" as "0"
    double real = 0.0;
};

/// The value of a number, or of a number kept as text; nullopt for anything else, and for a text too
/// large for a double (which then compares as text).
std::optional<NumberValue> number_value(const Json& value)
{
    if (value.is_number_integer()) {
        return NumberValue{value.dump(), 0.0};  // "-0" is only ever kept as text
    }
    if (value.is_number_float()) {
        return NumberValue{std::nullopt, value.get<double>()};
    }
    if (!value.is_binary()) {
        return std::nullopt;
    }
    const std::string text(value.get_binary().begin(), value.get_binary().end());
    if (is_integer_literal(text)) {
        return NumberValue{text == "-0" ? "0" : text, 0.0};
    }
    double real = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), real);
    if (error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return NumberValue{std::nullopt, real};
}

/// The exact digits of a double that has no fraction ("-0" as "0"), for comparing it with an integer;
/// nullopt for a double that has a fraction, which equals no integer.
std::optional<std::string> exact_integer_digits(double real)
{
    if (!std::isfinite(real) || std::trunc(real) != real) {
        return std::nullopt;
    }
    std::array<char, 400> digits{};  // the largest double has 309 digits
    // With a precision, to_chars writes the exact value, not the shortest text that reads back as it.
    const auto [end, error] =
        std::to_chars(digits.data(), digits.data() + digits.size(), real, std::chars_format::fixed, 0);
    const std::string text(digits.data(), error == std::errc() ? end : digits.data());
    return text == "-0" ? std::string("0") : text;
}

/// Equality as RFC 6902's test has it: numbers by their value (0 and -0, 5 and 5.0, a double in any of its
/// spellings), objects by their members in any order, arrays item by item, the rest as JSON.
bool same_value(const Json& a, const Json& b)
{
    const auto a_number = number_value(a);
    const auto b_number = number_value(b);
    if (a_number && b_number) {
        if (a_number->integer && b_number->integer) {
            return *a_number->integer == *b_number->integer;
        }
        if (!a_number->integer && !b_number->integer) {
            return a_number->real == b_number->real;
        }
        // An integer and a double: equal when the double's exact value is that integer (never by rounding
        // the integer to the nearest double).
        const auto& integer = a_number->integer ? *a_number->integer : *b_number->integer;
        return exact_integer_digits(a_number->integer ? b_number->real : a_number->real) == integer;
    }
    if (a.is_object() && b.is_object()) {
        return a.size() == b.size() && std::all_of(a.items().begin(), a.items().end(), [&](const auto& member) {
                   const auto other = b.find(member.key());
                   return other != b.end() && same_value(member.value(), *other);
               });
    }
    if (a.is_array() && b.is_array()) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_value);
    }
    return a == b;
}

/// Builds a document from nlohmann's parse events (its SAX interface), as its own parser would, except
/// for the numbers and a bound on nesting. It reads a patch: numbers by value (a test compares 0.50 and 0.5
/// as equal), except where nlohmann would lose one: an integer too large for 64 bits, -0, a number too
/// large for a double, each kept as its text.
class DocumentBuilder {
public:
    bool null() { return add(Json(nullptr)); }
    bool boolean(bool value) { return add(Json(value)); }
    bool number_integer(Json::number_integer_t value)
    {
        // nlohmann reads a number with a minus sign as signed, without one as unsigned: a signed 0 was
        // written "-0", which would come back as 0.
        if (value == 0) {
            return add(number_text("-0"));
        }
        return add(Json(value));
    }
    bool number_unsigned(Json::number_unsigned_t value) { return add(Json(value)); }
    bool number_float(Json::number_float_t value, const std::string& text)
    {
        // nlohmann reads an integer too large for 64 bits as a double: its digits would be lost.
        if (is_integer_literal(text) || !std::isfinite(value)) {
            return add(number_text(text));
        }
        if (value == 0.0 && text.substr(0, text.find_first_of("eE")).find_first_of("123456789") != std::string::npos) {
            // Too small for a double (1e-400): zero would change the value without a word.
            error_ = "number out of range: " + text.substr(0, 64);
            return false;
        }
        return add(Json(value));
    }
    bool string(std::string& value) { return add(Json(std::move(value))); }
    bool binary(Json::binary_t& value) { return add(Json::binary(std::move(value))); }
    bool start_object(std::size_t /*elements*/) { return open(Json::value_t::object); }
    bool key(std::string& name)
    {
        // RFC 8259 leaves what a name given twice means to the reader: keeping one would lose the other
        // (in a JSON Patch, an operation's "op" given twice would turn a test into a replace).
        if (open_.back()->contains(name)) {
            error_ = "an object holds the same name twice";
            return false;
        }
        member_ = &(*open_.back())[name];
        return true;
    }
    bool end_object()
    {
        open_.pop_back();
        return true;
    }
    bool start_array(std::size_t /*elements*/) { return open(Json::value_t::array); }
    bool end_array()
    {
        open_.pop_back();
        return true;
    }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/, const nlohmann::detail::exception& e)
    {
        error_ = e.what();
        return false;
    }

    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    Json release() { return std::move(root_); }

private:
    bool open(Json::value_t type)
    {
        if (open_.size() >= max_json_depth) {
            error_ = "JSON nested deeper than " + std::to_string(max_json_depth) + " levels";
            return false;
        }
        Json* container = place(Json(type));
        open_.push_back(container);
        return true;
    }

    bool add(Json value)
    {
        place(std::move(value));
        return true;
    }

    /// Puts a value where the document is at: the root, the next item of an array, or the member whose
    /// key came last.
    Json* place(Json value)
    {
        if (open_.empty()) {
            root_ = std::move(value);
            return &root_;
        }
        if (open_.back()->is_array()) {
            open_.back()->push_back(std::move(value));
            return &open_.back()->back();
        }
        *member_ = std::move(value);
        return member_;
    }

    Json root_;
    std::vector<Json*> open_;  // the arrays and objects being read, outermost first
    Json* member_ = nullptr;
    std::string error_;
};

Json read_patch(std::string_view text)
{
    DocumentBuilder builder;
    if (!Json::sax_parse(text, &builder)) {
        throw InvalidJsonError(builder.error());
    }
    return builder.release();
}

/// The stored entry as a document, from Boost.JSON's reading of it (every entry is read so, and it takes
/// integers of any size, which nlohmann refuses beyond a double's range). A number nlohmann would not
/// write back as it is stored (an exact integer, -0, a double it spells otherwise) keeps its text, so that
/// what the patch leaves alone is stored again unchanged.
// NOLINTBEGIN(modernize-return-braced-init-list): a braced Json of one value is an array holding it
Json entry_document(const boost::json::value& value)
{
    switch (value.kind()) {
        case boost::json::kind::object: {
            auto object = Json::object();
            for (const auto& member : value.get_object()) {
                object[std::string(member.key())] = entry_document(member.value());
            }
            return object;
        }
        case boost::json::kind::array: {
            auto array = Json::array();
            for (const auto& item : value.get_array()) {
                array.push_back(entry_document(item));
            }
            return array;
        }
        case boost::json::kind::string:
            if (const auto digits = exact_integer_text(value); !digits.empty()) {
                return number_text(std::string(digits));
            }
            return Json(std::string(value.get_string()));
        case boost::json::kind::int64:
            return Json(value.get_int64());
        case boost::json::kind::uint64:
            return Json(value.get_uint64());
        case boost::json::kind::double_: {
            if (!std::isfinite(value.get_double())) {
                throw InvalidJsonError("the stored entry holds a number out of range");
            }
            const auto text = canonical_json(value);
            const Json number(value.get_double());
            return number.dump() == text ? number : number_text(text);
        }
        case boost::json::kind::bool_:
            return Json(value.get_bool());
        case boost::json::kind::null:
            break;
    }
    return Json(nullptr);
}
// NOLINTEND(modernize-return-braced-init-list)

/// Writes a document as JSON text: numbers kept as text are written as that text.
void write_document(const Json& value, std::string& out)
{
    switch (value.type()) {
        case Json::value_t::object: {
            out += '{';
            bool first = true;
            for (const auto& [name, member] : value.items()) {
                out += first ? "" : ",";
                first = false;
                out += Json(name).dump();
                out += ':';
                write_document(member, out);
            }
            out += '}';
            break;
        }
        case Json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& item : value) {
                out += first ? "" : ",";
                first = false;
                write_document(item, out);
            }
            out += ']';
            break;
        }
        case Json::value_t::binary: {
            const auto& text = value.get_binary();
            out.append(text.begin(), text.end());
            break;
        }
        default:
            out += value.dump();
            break;
    }
}

/// How far a value nests (a scalar 0, an object of scalars 1) and about how much memory it takes.
struct Extent {
    std::size_t depth = 0;
    std::size_t bytes = 0;
};

Extent extent_of(const Json& value)
{
    constexpr std::size_t node_bytes = sizeof(Json);
    Extent extent{0, node_bytes};
    if (value.is_string()) {
        extent.bytes += value.get_ref<const std::string&>().size();
    } else if (value.is_binary()) {
        extent.bytes += value.get_binary().size();
    } else if (value.is_object() || value.is_array()) {
        for (const auto& [name, member] : value.items()) {
            const auto inner = extent_of(member);
            extent.depth = std::max(extent.depth, inner.depth);
            extent.bytes += inner.bytes + (value.is_object() ? name.size() : 0);
        }
        extent.depth += 1;
    }
    return extent;
}

[[noreturn]] void malformed(std::size_t index, const std::string& what)
{
    throw InvalidJsonError("JSON Patch operation " + std::to_string(index) + ": " + what);
}

/// The string member `name` of an operation, which must be there.
const std::string& string_member(const Json& operation, const char* name, std::size_t index)
{
    const auto it = operation.find(name);
    if (it == operation.end() || !it->is_string()) {
        malformed(index, std::string("needs a string member '") + name + "'");
    }
    return it->get_ref<const std::string&>();
}

Pointer pointer_member(const Json& operation, const char* name, std::size_t index)
{
    const auto& text = string_member(operation, name, index);
    try {
        return Pointer(text);
    } catch (const Json::parse_error& e) {
        malformed(index, std::string("'") + name + "' is not a JSON pointer: " + e.what());
    }
}

/// No client edit of one entry needs more; each operation costs a walk of the entry.
constexpr std::size_t max_patch_operations = 1000;

/// Checks that a patch is a list of well-formed operations (RFC 6902 section 4) before any is applied:
/// a malformed document is refused whole.
void check_operations(const Json& patch)
{
    static const std::set<std::string, std::less<>> names{"add", "remove", "replace", "move", "copy", "test"};
    if (!patch.is_array()) {
        throw InvalidJsonError("a JSON Patch is an array of operations");
    }
    if (patch.size() > max_patch_operations) {
        throw EntryTooLargeError("a JSON Patch of " + std::to_string(patch.size()) + " operations, over the limit of " +
                                 std::to_string(max_patch_operations));
    }
    for (std::size_t index = 0; index < patch.size(); ++index) {
        const auto& operation = patch[index];
        if (!operation.is_object()) {
            malformed(index, "not an object");
        }
        const auto& op = string_member(operation, "op", index);
        if (!names.contains(op)) {
            malformed(index, "unknown op '" + op + "'");
        }
        pointer_member(operation, "path", index);
        if (op == "move" || op == "copy") {
            pointer_member(operation, "from", index);
        }
        if ((op == "add" || op == "replace" || op == "test") && !operation.contains("value")) {
            malformed(index, "needs a member 'value'");
        }
    }
}

/// Applies a JSON Patch one checked operation at a time.
class JsonPatcher {
public:
    JsonPatcher(Json& document, std::size_t max_bytes)
        : document_(document), budget_(max_bytes * budget_factor), used_(extent_of(document).bytes)
    {
    }

    void apply(const Json& operation, std::size_t index)
    {
        const auto& op = operation["op"].get_ref<const std::string&>();
        const Pointer path(operation["path"].get_ref<const std::string&>());
        try {
            if (op == "add" || op == "replace") {
                grow(path, extent_of(operation["value"]));
            } else if (op == "copy" || op == "move") {
                const auto extent = extent_of(document_.at(Pointer(operation["from"].get_ref<const std::string&>())));
                work(extent.bytes);
                grow(path, op == "copy" ? extent : Extent{extent.depth, 0});
            } else if (op == "test") {
                work(extent_of(operation["value"]).bytes);
            }
            if (op == "add" || op == "copy" || op == "move" || op == "remove") {
                require_container_parent(path);
            }
            if (op == "move") {
                require_not_into_itself(Pointer(operation["from"].get_ref<const std::string&>()), path);
            }
            if (op == "test") {
                // nlohmann compares numbers as it holds them: a number kept as text would equal its own
                // text only, and -0 would never equal 0.
                if (!same_value(document_.at(path), operation["value"])) {
                    throw PatchConflictError("JSON Patch operation " + std::to_string(index) +
                                             " (test) failed: " + path.to_string() + " holds another value");
                }
                return;
            }
            document_.patch_inplace(Json::array({operation}));
        } catch (const Json::exception& e) {
            throw PatchConflictError("JSON Patch operation " + std::to_string(index) + " cannot apply: " + e.what());
        }
    }

private:
    // A copy can double the entry at each step: the memory it may take on the way is bounded by a
    // multiple of the largest entry, and the result by the largest entry itself.
    static constexpr std::size_t budget_factor = 16;

    /// A move or a copy takes time in proportion to what it moves (nlohmann copies it), so a patch that
    /// moves the same large value back and forth would hold the loop for minutes: what the operations
    /// move, copy and compare is bounded like what they add.
    void work(std::size_t bytes)
    {
        worked_ += bytes;
        if (worked_ > budget_) {
            throw EntryTooLargeError("the JSON Patch would move, copy or compare more than " + std::to_string(budget_) +
                                     " bytes");
        }
    }

    void grow(const Pointer& path, Extent added)
    {
        std::size_t tokens = 0;
        for (auto parent = path; !parent.empty(); parent = parent.parent_pointer()) {
            ++tokens;
        }
        if (tokens + added.depth > max_json_depth) {
            throw InvalidJsonError("the patched entry would be nested deeper than " + std::to_string(max_json_depth) +
                                   " levels");
        }
        used_ += added.bytes;
        if (used_ > budget_) {
            throw EntryTooLargeError("the patched entry would be too large");
        }
    }

    /// RFC 6902 section 4.4: a value cannot be moved into one of its own children.
    static void require_not_into_itself(const Pointer& from, const Pointer& path)
    {
        if (path.to_string().starts_with(from.to_string() + "/")) {
            throw PatchConflictError("cannot move " + from.to_string() + " into itself, to " + path.to_string());
        }
    }

    /// RFC 6902 adds and removes in an object or an array only (nlohmann would turn a null into an object).
    void require_container_parent(const Pointer& path) const
    {
        if (path.empty()) {
            return;  // the whole document
        }
        const auto& parent = document_.at(path.parent_pointer());
        if (!parent.is_object() && !parent.is_array()) {
            throw PatchConflictError("the parent of " + path.to_string() + " is not an object or an array");
        }
    }

    Json& document_;
    std::size_t budget_;
    std::size_t used_;
    std::size_t worked_ = 0;
};

}  // namespace

Patch::Patch(PatchFormat format, std::string_view text) : format_(format), changes_(read_patch(text))
{
    if (format_ == PatchFormat::json_patch) {
        check_operations(changes_);
    }
}

std::string Patch::apply(std::string_view entry_json, std::size_t max_bytes) const
{
    auto document = entry_document(parse_json_body(entry_json));
    if (format_ == PatchFormat::merge_patch) {
        document.merge_patch(changes_);
    } else {
        JsonPatcher patcher(document, max_bytes);
        for (std::size_t index = 0; index < changes_.size(); ++index) {
            patcher.apply(changes_[index], index);
        }
    }
    std::string text;
    write_document(document, text);
    if (text.size() > max_bytes) {
        throw EntryTooLargeError("the patched entry is " + std::to_string(text.size()) + " bytes, over the limit of " +
                                 std::to_string(max_bytes));
    }
    return text;
}

}  // namespace addrservice
