#include "addrservice/schema.hpp"

#include <boost/json/value.hpp>
#include <nlohmann/json.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace addrservice {

namespace {

using nlohmann::json;

/// Appends '/' and a JSON pointer token naming key (RFC 6901: '~' is "~0", '/' is "~1").
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

/// valijson names a location as {"<root>", "[addresses]", "[0]", ...}; turn it into a JSON pointer.
std::string pointer_from_context(const std::vector<std::string>& context)
{
    std::string pointer;
    for (const auto& part : context) {
        if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
            append_pointer_token(pointer, std::string_view(part).substr(1, part.size() - 2));
        }
    }
    return pointer;
}

bool starts_with(std::string_view text, std::string_view prefix)
{
    return text.substr(0, prefix.size()) == prefix;
}

/// The text between the last pair of single quotes, e.g. the property name in valijson's messages.
std::string last_quoted(std::string_view text)
{
    const auto close = text.rfind('\'');
    if (close == std::string_view::npos || close == 0) {
        return {};
    }
    const auto open = text.rfind('\'', close - 1);
    if (open == std::string_view::npos) {
        return {};
    }
    return std::string(text.substr(open + 1, close - open - 1));
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

void check_formats(const boost::json::value& value, std::string& pointer, std::vector<Violation>& out);

}  // namespace

struct SchemaValidator::Impl {
    json document;  // the schema as JSON, to phrase messages from its constraints
    valijson::Schema schema;

    /// The subschema that applies at a JSON pointer of a document, following $ref and items/properties.
    [[nodiscard]] const json* subschema_at(std::string_view pointer) const
    {
        const json* node = &document;
        auto resolve = [this](const json* n) -> const json* {
            for (int hops = 0; n != nullptr && n->is_object() && n->contains("$ref") && hops < 8; ++hops) {
                const auto& ref = (*n)["$ref"].get_ref<const std::string&>();
                if (!starts_with(ref, "#")) {
                    return nullptr;
                }
                const json::json_pointer target(ref.substr(1));
                n = document.contains(target) ? &document[target] : nullptr;
            }
            return n;
        };
        node = resolve(node);
        std::size_t pos = 0;
        while (node != nullptr && pos < pointer.size()) {
            const auto next = pointer.find('/', pos + 1);
            const auto token =
                pointer.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
            pos = next == std::string_view::npos ? pointer.size() : next;
            if (node->contains("items") && !token.empty() &&
                std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                node = &(*node)["items"];
            } else if (node->contains("properties") && (*node)["properties"].contains(std::string(token))) {
                node = &(*node)["properties"][std::string(token)];
            } else {
                return nullptr;
            }
            node = resolve(node);
        }
        return node;
    }

    [[nodiscard]] std::string phrase(const std::string& pointer, const std::string& description) const
    {
        const json* sub = subschema_at(pointer);
        if (starts_with(description, "Value type not permitted") && sub != nullptr && sub->contains("type")) {
            const auto& type = (*sub)["type"];
            return "must be of type " + (type.is_array() ? join(type, " or ") : type.get<std::string>());
        }
        if (starts_with(description, "Failed to match against any enum") && sub != nullptr && sub->contains("enum")) {
            return "must be one of " + join((*sub)["enum"], ", ");
        }
        return description;
    }
};

SchemaValidator::SchemaValidator(std::string_view schema_text) : impl_(std::make_unique<Impl>())
{
    try {
        impl_->document = json::parse(schema_text);
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        const valijson::adapters::NlohmannJsonAdapter adapter(impl_->document);
        parser.populateSchema(adapter, impl_->schema);
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("invalid JSON schema: ") + e.what());
    }
}

SchemaValidator::~SchemaValidator() = default;
SchemaValidator::SchemaValidator(SchemaValidator&&) noexcept = default;
SchemaValidator& SchemaValidator::operator=(SchemaValidator&&) noexcept = default;

std::vector<Violation> SchemaValidator::validate(const boost::json::value& document) const
{
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::ValidationResults results;
    const valijson::adapters::BoostJsonAdapter adapter(document);
    std::vector<Violation> violations;
    if (!validator.validate(impl_->schema, adapter, &results)) {
        valijson::ValidationResults::Error error;
        while (results.popError(error)) {
            const auto& what = error.description;
            // Summaries of a failure already reported at a deeper pointer.
            if (starts_with(what, "Failed to validate item #") ||
                starts_with(what, "Failed to validate against schema associated with property name") ||
                starts_with(what, "Failed to validate against additional properties schema")) {
                continue;
            }
            auto pointer = pointer_from_context(error.context);
            if (starts_with(what, "Missing required property")) {
                violations.push_back({pointer, "missing required property '" + last_quoted(what) + "'"});
            } else if (starts_with(what, "Object contains a property that could not be validated")) {
                const auto name = last_quoted(what);
                append_pointer_token(pointer, name);
                violations.push_back({std::move(pointer), "unknown property '" + name + "'"});
            } else {
                violations.push_back({pointer, impl_->phrase(pointer, what)});
            }
        }
    }
    // What valijson leaves unchecked: the email format, and numbers that JSON text cannot carry back.
    std::string pointer;
    check_formats(document, pointer, violations);
    std::stable_sort(violations.begin(), violations.end(),
                     [](const Violation& a, const Violation& b) { return a.pointer < b.pointer; });
    violations.erase(std::unique(violations.begin(), violations.end()), violations.end());
    return violations;
}

bool is_plausible_email(std::string_view text) noexcept
{
    const auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos) {
        return false;
    }
    const auto domain = text.substr(at + 1);
    const auto dot = domain.find('.');
    if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') {
        return false;
    }
    return std::none_of(text.begin(), text.end(),
                        [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

namespace {

void check_formats(const boost::json::value& value, std::string& pointer, std::vector<Violation>& out)
{
    if (value.is_double() && !std::isfinite(value.get_double())) {
        out.push_back({pointer, "number out of range"});
    } else if (const auto* object = value.if_object()) {
        for (const auto& member : *object) {
            const auto size = pointer.size();
            append_pointer_token(pointer, member.key());
            check_formats(member.value(), pointer, out);
            pointer.resize(size);
        }
        // An email item of the schema: {"kind": ..., "email": "..."} under /emails/N.
        if (const auto* email = object->if_contains("email"); email != nullptr && email->is_string() &&
                                                              starts_with(pointer, "/emails/") &&
                                                              !is_plausible_email(email->get_string())) {
            out.push_back({pointer + "/email", "must be a valid email address"});
        }
    } else if (const auto* array = value.if_array()) {
        std::size_t index = 0;
        for (const auto& item : *array) {
            const auto size = pointer.size();
            pointer += '/';
            pointer += std::to_string(index++);
            check_formats(item, pointer, out);
            pointer.resize(size);
        }
    }
}

}  // namespace

}  // namespace addrservice
