#include "addrservice/schema_precheck.hpp"

#include "addrservice/json_text.hpp"

#include <boost/json/value.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

namespace addrservice {

namespace {

using nlohmann::json;

/// Keywords that say something about a schema but constrain no document.
constexpr std::array<std::string_view, 8> annotations{"$schema",     "$id",     "$comment", "title",
                                                      "description", "default", "examples", "definitions"};

bool is_annotation(std::string_view keyword)
{
    return std::find(annotations.begin(), annotations.end(), keyword) != annotations.end();
}

/// The formats the full validator checks; it passes a value under any other.
constexpr std::array<std::string_view, 3> checked_formats{"date", "time", "date-time"};

}  // namespace

/// Turns schema objects into nodes, each at most once (by JSON pointer), so that a recursive $ref
/// becomes a loop in the tree rather than endless compiling.
class SchemaPrecheck::Compiler {
public:
    Compiler(const json& root, std::vector<Node>& nodes) : root_(root), nodes_(nodes) {}

    /// The node of the schema at pointer, or nullopt when it uses a keyword the precheck does not know.
    std::optional<std::size_t> compile(const std::string& pointer)
    {
        if (const auto done = compiled_.find(pointer); done != compiled_.end()) {
            return done->second;
        }
        const json& schema = root_.at(json::json_pointer(pointer));
        if (!schema.is_object()) {
            return std::nullopt;  // true and false as schemas
        }
        if (schema.contains("$ref")) {
            return compile_reference(pointer, schema);
        }
        const auto index = nodes_.size();
        nodes_.emplace_back();
        compiled_.emplace(pointer, index);
        Node node;
        for (const auto& [keyword, value] : schema.items()) {
            if (!read(keyword, value, pointer, node)) {
                return std::nullopt;
            }
        }
        if (!mark_required(node)) {
            return std::nullopt;
        }
        index_properties(node);
        nodes_[index] = std::move(node);
        return index;
    }

private:
    /// A schema that is only a $ref within this document is the node it refers to.
    std::optional<std::size_t> compile_reference(const std::string& pointer, const json& schema)
    {
        const auto& ref = schema["$ref"];
        const bool only_ref = std::all_of(schema.items().begin(), schema.items().end(), [](const auto& item) {
            return item.key() == "$ref" || is_annotation(item.key());
        });
        if (!only_ref || !ref.is_string() || !ref.get_ref<const std::string&>().starts_with('#') ||
            ref.get_ref<const std::string&>().find('%') != std::string::npos || !following_.insert(pointer).second) {
            return std::nullopt;
        }
        auto target = ref.get_ref<const std::string&>().substr(1);
        std::optional<std::size_t> index;
        try {
            if (root_.contains(json::json_pointer(target))) {
                index = compile(target);
            }
        } catch (const json::exception&) {
            // Not a JSON pointer: the full validator says what it makes of it.
        }
        following_.erase(pointer);
        if (index) {
            compiled_.emplace(pointer, *index);
        }
        return index;
    }

    bool read(const std::string& keyword, const json& value, const std::string& pointer, Node& node)
    {
        if (keyword == "type") {
            return read_types(value, node);
        }
        if (keyword == "properties") {
            if (!value.is_object()) {
                return false;
            }
            for (const auto& [name, subschema] : value.items()) {
                auto child_pointer = pointer + "/properties";
                append_pointer_token(child_pointer, name);
                const auto child = compile(child_pointer);
                if (!child) {
                    return false;
                }
                node.properties.push_back({name, *child});
            }
            return true;
        }
        if (keyword == "required") {
            return read_strings(value, node.required);
        }
        if (keyword == "additionalProperties") {
            node.additional_properties = value.is_boolean() && value.get<bool>();
            return value.is_boolean();
        }
        if (keyword == "items") {
            node.items = value.is_object() ? compile(pointer + "/items") : std::nullopt;
            return node.items.has_value();
        }
        if (keyword == "enum") {
            return read_strings(value, node.one_of_strings.emplace());
        }
        if (keyword == "format") {
            return value.is_string() && std::find(checked_formats.begin(), checked_formats.end(),
                                                  value.get_ref<const std::string&>()) == checked_formats.end();
        }
        return is_annotation(keyword) && (keyword != "definitions" || value.is_object());
    }

    /// Marks the properties that are required, so that a document's members are counted against them in
    /// the one pass over its members, without a lookup by name for each. A required name that has no
    /// property of its own gets one that takes any value, when other names are allowed; when they are not,
    /// no document passes, and the node is not compiled (valijson says why each one fails).
    bool mark_required(Node& node)
    {
        std::sort(node.required.begin(), node.required.end());
        node.required.erase(std::unique(node.required.begin(), node.required.end()), node.required.end());
        for (const auto& name : node.required) {
            const auto property = std::find_if(node.properties.begin(), node.properties.end(),
                                               [&](const Property& p) { return p.name == name; });
            if (property != node.properties.end()) {
                property->required = true;
            } else if (node.additional_properties) {
                node.properties.push_back({name, any_node(), true});
            } else {
                return false;
            }
        }
        return true;
    }

    /// A node that any value passes.
    std::size_t any_node()
    {
        if (!any_) {
            any_ = nodes_.size();
            nodes_.emplace_back();
        }
        return *any_;
    }

    static bool read_types(const json& value, Node& node)
    {
        static const std::map<std::string, std::uint8_t, std::less<>> bits{
            {"null", null_type},     {"boolean", boolean_type}, {"object", object_type},   {"array", array_type},
            {"string", string_type}, {"number", number_type},   {"integer", integer_type},
        };
        const auto names = value.is_array() ? value : json::array({value});
        node.types = 0;
        for (const auto& name : names) {
            const auto found = name.is_string() ? bits.find(name.get_ref<const std::string&>()) : bits.end();
            if (found == bits.end()) {
                return false;
            }
            node.types |= found->second;
        }
        // "number" allows integers too.
        if ((node.types & number_type) != 0) {
            node.types |= integer_type;
        }
        return node.types != 0;
    }

    static bool read_strings(const json& value, std::vector<std::string>& out)
    {
        if (!value.is_array()) {
            return false;
        }
        for (const auto& item : value) {
            if (!item.is_string()) {
                return false;
            }
            out.push_back(item.get<std::string>());
        }
        return true;
    }

    const json& root_;
    std::vector<Node>& nodes_;
    std::map<std::string, std::size_t, std::less<>> compiled_;
    std::set<std::string, std::less<>> following_;  // $refs being resolved: a cycle of them is no schema
    std::optional<std::size_t> any_;
};

std::optional<SchemaPrecheck> SchemaPrecheck::compile(const json& schema)
{
    SchemaPrecheck precheck;
    Compiler compiler(schema, precheck.nodes_);
    // The first node compiled is the root's (or, when the root is a $ref, the one it refers to).
    if (!compiler.compile("")) {
        return std::nullopt;
    }
    return precheck;
}

std::size_t SchemaPrecheck::slot_of(std::string_view name, unsigned shift) noexcept
{
    // A name's length and three of its bytes, mixed by a multiplication whose high bits pick the slot: the
    // names of one schema object seldom agree in all four, and a collision costs one more comparison.
    std::uint64_t key = name.size();
    if (!name.empty()) {
        key = (key << 24U) | (std::uint64_t{static_cast<unsigned char>(name.front())} << 16U) |
              (std::uint64_t{static_cast<unsigned char>(name[name.size() / 2])} << 8U) |
              static_cast<unsigned char>(name.back());
    }
    constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ULL;
    return shift >= 64 ? 0 : (key * golden) >> shift;
}

void SchemaPrecheck::index_properties(Node& node)
{
    std::size_t size = 1;
    unsigned shift = 64;
    while (size < 2 * node.properties.size()) {
        size *= 2;
        --shift;
    }
    node.slots.assign(size, 0);
    node.slot_shift = shift;
    for (std::size_t i = 0; i < node.properties.size(); ++i) {
        auto slot = slot_of(node.properties[i].name, shift);
        while (node.slots[slot] != 0) {
            slot = (slot + 1) & (size - 1);
        }
        node.slots[slot] = static_cast<std::uint32_t>(i + 1);
    }
}

const SchemaPrecheck::Property* SchemaPrecheck::find(const Node& node, std::string_view name) noexcept
{
    const std::size_t mask = node.slots.size() - 1;
    for (std::size_t slot = slot_of(name, node.slot_shift);; slot = (slot + 1) & mask) {
        const auto index = node.slots[slot];
        if (index == 0) {
            return nullptr;
        }
        const auto& property = node.properties[index - 1];
        if (property.name == name) {
            return &property;
        }
    }
}

bool SchemaPrecheck::passes(const boost::json::value& document) const noexcept
{
    return passes(document, nodes_.front());
}

std::uint8_t SchemaPrecheck::type_of(const boost::json::value& value) noexcept
{
    switch (value.kind()) {
        case boost::json::kind::null:
            return null_type;
        case boost::json::kind::bool_:
            return boolean_type;
        case boost::json::kind::object:
            return object_type;
        case boost::json::kind::array:
            return array_type;
        case boost::json::kind::string:
            // An integer too long for 64 bits is kept as its text, and is a number.
            return is_exact_integer(value.get_string()) ? number_type | integer_type : string_type;
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
            return number_type | integer_type;
        case boost::json::kind::double_:
            return number_type;
    }
    return 0;
}

bool SchemaPrecheck::passes(const boost::json::value& value, const Node& node) const noexcept
{
    const auto type = type_of(value);
    if ((type & node.types) == 0) {
        return false;
    }
    if (node.one_of_strings) {
        if (type != string_type) {
            return false;
        }
        const std::string_view text = value.get_string();
        if (std::find(node.one_of_strings->begin(), node.one_of_strings->end(), text) == node.one_of_strings->end()) {
            return false;
        }
    }
    if (const auto* object = value.if_object()) {
        // A parsed object holds each name once, so counting the required ones met tells whether all are.
        std::size_t required = 0;
        for (const auto& member : *object) {
            const std::string_view key = member.key();
            if (const auto* found = find(node, key)) {
                required += found->required ? 1 : 0;
                if (!passes(member.value(), nodes_[found->node])) {
                    return false;
                }
            } else if (!node.additional_properties) {
                return false;
            }
        }
        if (required != node.required.size()) {
            return false;
        }
    } else if (const auto* array = value.if_array(); array != nullptr && node.items) {
        const auto& items = nodes_[*node.items];
        return std::all_of(array->begin(), array->end(), [&](const auto& item) { return passes(item, items); });
    }
    return true;
}

}  // namespace addrservice
