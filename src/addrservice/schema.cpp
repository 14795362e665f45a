#include "addrservice/schema.hpp"

#include "addrservice/json_text.hpp"
#include "addrservice/schema_adapter.hpp"
#include "addrservice/schema_precheck.hpp"

#include <boost/json/value.hpp>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>

namespace addrservice {

namespace {

using nlohmann::json;

/// Where a violation is: the property names and array indices from the document's root.
using Tokens = std::vector<std::string_view>;

/// valijson names a location as {"<root>", "[addresses]", "[0]", ...}, a name whole between the brackets.
Tokens tokens_from_context(const std::vector<std::string>& context)
{
    Tokens tokens;
    for (const auto& part : context) {
        if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
            tokens.push_back(std::string_view(part).substr(1, part.size() - 2));
        }
    }
    return tokens;
}

std::string pointer_from_tokens(const Tokens& tokens)
{
    std::string pointer;
    for (const auto token : tokens) {
        append_pointer_token(pointer, token);
    }
    return pointer;
}

bool starts_with(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

/// What text holds between prefix and suffix, when it is prefix + something + suffix.
std::optional<std::string_view> between(std::string_view text, std::string_view prefix, std::string_view suffix)
{
    if (text.size() < prefix.size() + suffix.size() || !starts_with(text, prefix) ||
        text.substr(text.size() - suffix.size()) != suffix) {
        return std::nullopt;
    }
    return text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
}

/// valijson's messages that only sum up failures it has already reported at a deeper pointer.
bool is_summary(std::string_view description)
{
    static constexpr std::array<std::string_view, 5> summaries{
        "Failed to validate item #",
        "Failed to validate against schema associated with property name",
        "Failed to validate against additional properties schema",
        "Failed to validate against a conditional schema",
        "Failed to validate against child schema #",
    };
    return std::any_of(summaries.begin(), summaries.end(),
                       [description](std::string_view summary) { return starts_with(description, summary); });
}

constexpr std::string_view missing_property_prefix = "Missing required property '";
constexpr std::string_view unknown_property_prefix =
    "Object contains a property that could not be validated using 'properties' or 'additionalProperties' "
    "constraints: '";
constexpr std::string_view quoted_name_suffix = "'.";

bool is_index(std::string_view token)
{
    return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string join(const json& values, std::string_view separator)
{
    std::string out;
    for (const auto& value : values) {
        if (!out.empty()) {
            out += separator;
        }
        out += value.is_string() ? value.get<std::string>() : value.dump();
    }
    return out;
}

/// The formats valijson checks; it passes any other.
constexpr std::array<std::string_view, 3> formats_valijson_checks{"date", "time", "date-time"};

/// JSON Schema applies `format` to strings only, but valijson reads any value under it as a string and
/// aborts when it is an array or an object. So, at every place a schema can be, a format valijson checks
/// becomes {"allOf": [{"if": {"type": "string"}, "then": {"format": F}}]}, and one it would pass anyway
/// is left out, costing nothing (email is checked here, by check_formats).
void guard_formats(json& schema)
{
    if (!schema.is_object()) {
        return;
    }
    for (const auto* keyword : {"additionalItems", "additionalProperties", "contains", "else", "if", "items", "not",
                                "propertyNames", "then", "allOf", "anyOf", "oneOf"}) {
        if (const auto found = schema.find(keyword); found != schema.end()) {
            if (found->is_array()) {
                std::for_each(found->begin(), found->end(), guard_formats);
            } else {
                guard_formats(*found);
            }
        }
    }
    for (const auto* keyword : {"definitions", "properties", "patternProperties", "dependencies"}) {
        if (const auto found = schema.find(keyword); found != schema.end() && found->is_object()) {
            std::for_each(found->begin(), found->end(), guard_formats);
        }
    }
    if (const auto format = schema.find("format"); format != schema.end()) {
        auto name = std::move(*format);
        schema.erase(format);
        if (name.is_string() && std::find(formats_valijson_checks.begin(), formats_valijson_checks.end(),
                                          name.get_ref<const std::string&>()) != formats_valijson_checks.end()) {
            schema["allOf"].push_back({{"if", {{"type", "string"}}}, {"then", {{"format", std::move(name)}}}});
        }
    }
}

/// The value at tokens in document, or nullptr when there is none.
const boost::json::value* value_at(const boost::json::value& document, const Tokens& tokens)
{
    const boost::json::value* node = &document;
    for (const auto token : tokens) {
        if (const auto* object = node->if_object()) {
            node = object->if_contains(token);
        } else if (const auto* array = node->if_array(); array != nullptr && is_index(token)) {
            const auto index = std::stoull(std::string(token));
            node = index < array->size() ? &(*array)[index] : nullptr;
        } else {
            node = nullptr;
        }
        if (node == nullptr) {
            return nullptr;
        }
    }
    return node;
}

/// The way from a document's root to one of its values: property names and array indices.
using Path = std::vector<std::variant<std::string_view, std::size_t>>;

void check_formats(const boost::json::value& value, Path& path, std::vector<Violation>& out);

}  // namespace

struct SchemaValidator::Impl {
    json document;  // the schema as written, to phrase messages from its constraints
    valijson::Schema schema;
    std::optional<SchemaPrecheck> precheck;  // nullopt: every document goes to valijson

    /// The subschema with this $ref resolved (however many hops), or nullptr when it cannot be.
    [[nodiscard]] const json* resolve(const json* node) const
    {
        for (int hops = 0; node != nullptr && node->is_object() && node->contains("$ref"); ++hops) {
            const auto& ref = (*node)["$ref"];
            if (hops == 8 || !ref.is_string() || !starts_with(ref.get_ref<const std::string&>(), "#/")) {
                return nullptr;
            }
            const json::json_pointer target(ref.get<std::string>().substr(1));
            node = document.contains(target) ? &document[target] : nullptr;
        }
        return node;
    }

    /// The subschema that applies at tokens of a document, following $ref and items/properties.
    [[nodiscard]] const json* subschema_at(const Tokens& tokens) const
    {
        const json* node = resolve(&document);
        for (const auto token : tokens) {
            if (node == nullptr || !node->is_object()) {
                return nullptr;
            }
            if (const auto items = node->find("items"); items != node->end() && items->is_object() && is_index(token)) {
                node = &*items;
            } else if (const auto properties = node->find("properties");
                       properties != node->end() && properties->is_object() && properties->contains(token)) {
                node = &*properties->find(token);
            } else {
                return nullptr;
            }
            node = resolve(node);
        }
        return node;
    }

    [[nodiscard]] std::string phrase(const Tokens& tokens, const std::string& description) const
    {
        const json* sub = subschema_at(tokens);
        if (sub == nullptr || !sub->is_object()) {
            return description;
        }
        if (const auto type = sub->find("type");
            type != sub->end() && starts_with(description, "Value type not permitted")) {
            return "must be of type " + join(type->is_array() ? *type : json::array({*type}), " or ");
        }
        if (const auto values = sub->find("enum");
            values != sub->end() && starts_with(description, "Failed to match against any enum")) {
            return "must be one of " + join(*values, ", ");
        }
        return description;
    }

    /// Each property of the object at tokens that its schema does not name; valijson names only one.
    void report_unknown_properties(const boost::json::value& body, const Tokens& tokens, const std::string& pointer,
                                   std::string_view first_name, std::vector<Violation>& out) const
    {
        auto report_one = [&](std::string_view name) {
            auto member_pointer = pointer;
            append_pointer_token(member_pointer, name);
            out.push_back({std::move(member_pointer), "unknown property '" + std::string(name) + "'"});
        };
        const auto* value = value_at(body, tokens);
        const auto* object = value != nullptr ? value->if_object() : nullptr;
        const json* sub = subschema_at(tokens);
        // With patterns it takes a regex to know; valijson's one name is then what is reported.
        if (object == nullptr || sub == nullptr || !sub->is_object() || sub->contains("patternProperties")) {
            report_one(first_name);
            return;
        }
        const auto properties = sub->find("properties");
        const bool has_properties = properties != sub->end() && properties->is_object();
        for (const auto& member : *object) {
            if (!has_properties || !properties->contains(member.key())) {
                report_one(member.key());
            }
        }
    }

    void report(const boost::json::value& body, const valijson::ValidationResults::Error& error,
                std::vector<Violation>& out) const
    {
        const auto& what = error.description;
        if (is_summary(what)) {
            return;
        }
        const auto tokens = tokens_from_context(error.context);
        auto pointer = pointer_from_tokens(tokens);
        if (const auto name = between(what, missing_property_prefix, quoted_name_suffix)) {
            out.push_back({std::move(pointer), "missing required property '" + std::string(*name) + "'"});
        } else if (const auto unknown = between(what, unknown_property_prefix, quoted_name_suffix)) {
            report_unknown_properties(body, tokens, pointer, *unknown, out);
        } else {
            out.push_back({std::move(pointer), phrase(tokens, what)});
        }
    }
};

SchemaValidator::SchemaValidator(std::string_view schema_text, Precheck precheck) : impl_(std::make_unique<Impl>())
{
    try {
        impl_->document = json::parse(schema_text);
        auto guarded = impl_->document;
        guard_formats(guarded);
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        const valijson::adapters::NlohmannJsonAdapter adapter(guarded);
        parser.populateSchema(adapter, impl_->schema);
        if (precheck == Precheck::on) {
            impl_->precheck = SchemaPrecheck::compile(impl_->document);
        }
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("invalid JSON schema: ") + e.what());
    }
}

SchemaValidator::~SchemaValidator() = default;
SchemaValidator::SchemaValidator(SchemaValidator&&) noexcept = default;
SchemaValidator& SchemaValidator::operator=(SchemaValidator&&) noexcept = default;

std::vector<Violation> SchemaValidator::validate(const boost::json::value& document) const
{
    std::vector<Violation> violations;
    // valijson copies its context path at every level: a valid entry costs it several times what the
    // precheck does, so it sees only the documents that may be invalid, to say what is wrong.
    if (!impl_->precheck || !impl_->precheck->passes(document)) {
        valijson::Validator validator(valijson::Validator::kStrongTypes);
        valijson::ValidationResults results;
        const schema_adapter::BodyAdapter adapter(document);
        if (!validator.validate(impl_->schema, adapter, &results)) {
            valijson::ValidationResults::Error error;
            while (results.popError(error)) {
                impl_->report(document, error, violations);
            }
        }
    }
    // What valijson leaves unchecked: the email format, and numbers that JSON text cannot carry back.
    Path path;
    check_formats(document, path, violations);
    std::stable_sort(violations.begin(), violations.end(),
                     [](const Violation& a, const Violation& b) { return a.pointer < b.pointer; });
    violations.erase(std::unique(violations.begin(), violations.end()), violations.end());
    return violations;
}

namespace {

/// True for a code point that is a control character (C0, DEL, C1) or a space of any kind (Unicode's
/// White_Space and the zero-width space and no-break space that look like one).
bool is_space_or_control(std::uint32_t c) noexcept
{
    return c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/// True when UTF-8 text (as a parsed body's strings are) holds a space or a control character.
bool has_space_or_control(std::string_view text) noexcept
{
    for (std::size_t at = 0; at < text.size();) {
        const auto lead = static_cast<unsigned char>(text[at]);
        const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        std::uint32_t c = length == 1 ? lead : lead & (0xFFU >> (length + 1));
        for (std::size_t i = 1; i < length && at + i < text.size(); ++i) {
            c = (c << 6U) | (static_cast<unsigned char>(text[at + i]) & 0x3FU);
        }
        if (is_space_or_control(c)) {
            return true;
        }
        at += length;
    }
    return false;
}

}  // namespace

bool is_plausible_email(std::string_view text) noexcept
{
    const auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos) {
        return false;
    }
    const auto local = text.substr(0, at);
    const auto domain = text.substr(at + 1);
    // Dots separate words of the local part and labels of the domain: none at either end, never two in a
    // row; a label neither starts nor ends with a hyphen, and the domain has two labels at least.
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos ||
        domain.find('.') == std::string_view::npos) {
        return false;
    }
    for (std::size_t start = 0; start <= domain.size();) {
        const auto end = std::min(domain.find('.', start), domain.size());
        const auto label = domain.substr(start, end - start);
        if (label.empty() || label.front() == '-' || label.back() == '-') {
            return false;
        }
        start = end + 1;
    }
    return !has_space_or_control(text);
}

namespace {

std::string pointer_of(const Path& path)
{
    std::string pointer;
    for (const auto& step : path) {
        if (const auto* name = std::get_if<std::string_view>(&step)) {
            append_pointer_token(pointer, *name);
        } else {
            pointer += '/';
            pointer += std::to_string(std::get<std::size_t>(step));
        }
    }
    return pointer;
}

/// True at /emails/N, an email item of the schema: {"kind": ..., "email": "..."}.
bool is_email_item(const Path& path)
{
    return path.size() == 2 && path[0] == Path::value_type(std::string_view("emails")) &&
           std::holds_alternative<std::size_t>(path[1]);
}

/// Strings and integers are checked where they are members (an email), so the walk steps into
/// containers and doubles only: a step costs more than the check.
bool may_hold_violation(const boost::json::value& value) noexcept
{
    return value.is_structured() || value.is_double();
}

/// Only a violation's pointer is written: most documents have none.
void check_formats(const boost::json::value& value, Path& path, std::vector<Violation>& out)
{
    if (value.is_double() && !std::isfinite(value.get_double())) {
        out.push_back({pointer_of(path), "number out of range"});
    } else if (const auto* object = value.if_object()) {
        for (const auto& member : *object) {
            if (may_hold_violation(member.value())) {
                path.emplace_back(member.key());
                check_formats(member.value(), path, out);
                path.pop_back();
            }
        }
        // The path first: a lookup by name in every object would cost more than the rest of the walk.
        if (const auto* email = is_email_item(path) ? object->if_contains("email") : nullptr;
            email != nullptr && email->is_string() && exact_integer_text(*email).empty() &&
            !is_plausible_email(email->get_string())) {
            out.push_back({pointer_of(path) + "/email", "must be a valid email address"});
        }
    } else if (const auto* array = value.if_array()) {
        for (std::size_t index = 0; index < array->size(); ++index) {
            if (!may_hold_violation((*array)[index])) {
                continue;
            }
            path.emplace_back(index);
            check_formats((*array)[index], path, out);
            path.pop_back();
        }
    }
}

}  // namespace

}  // namespace addrservice
