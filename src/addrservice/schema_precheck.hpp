#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class value;
}  // namespace boost::json

namespace addrservice {

/// A JSON Schema compiled once to a small tree that answers one question fast: is a document certainly
/// valid? It knows the keywords of a plain record schema (type, properties, required, additionalProperties
/// as a boolean, items as one schema, enum of strings, $ref within the document, format other than the date
/// and time formats); a schema with any other keyword does not compile, and every document then goes to
/// the full validator. A "no" from passes() means only "ask the full validator", which says what is wrong.
class SchemaPrecheck {
public:
    /// The precheck of a schema, or nullopt when the schema uses a keyword it does not know.
    static std::optional<SchemaPrecheck> compile(const nlohmann::json& schema);

    /// True when the document satisfies the schema; false when it does not or the precheck cannot tell.
    [[nodiscard]] bool passes(const boost::json::value& document) const noexcept;

private:
    /// JSON Schema's type names as bits; a node allows a value whose type bit it has.
    enum Type : std::uint8_t {
        null_type = 1U << 0U,
        boolean_type = 1U << 1U,
        object_type = 1U << 2U,
        array_type = 1U << 3U,
        string_type = 1U << 4U,
        number_type = 1U << 5U,
        integer_type = 1U << 6U,
        any_type = 0x7FU,
    };

    struct Property {
        std::string name;
        std::size_t node = 0;
        bool required = false;
    };

    struct Node {
        std::uint8_t types = any_type;
        std::vector<Property> properties;
        // The properties by name, open addressing: an index into properties plus one, 0 for an empty slot;
        // a power of two of slots, at most half of them used, the first one tried given by slot_of().
        std::vector<std::uint32_t> slots;
        unsigned slot_shift = 64;
        bool additional_properties = true;
        std::vector<std::string> required;                       // sorted, each name once, each one a property's
        std::optional<std::vector<std::string>> one_of_strings;  // enum
        std::optional<std::size_t> items;
    };

    class Compiler;

    [[nodiscard]] bool passes(const boost::json::value& value, const Node& node) const noexcept;
    [[nodiscard]] static const Property* find(const Node& node, std::string_view name) noexcept;
    [[nodiscard]] static std::size_t slot_of(std::string_view name, unsigned shift) noexcept;
    static void index_properties(Node& node);
    [[nodiscard]] static std::uint8_t type_of(const boost::json::value& value) noexcept;

    std::vector<Node> nodes_;  // nodes_[0] is the root
};

}  // namespace addrservice
