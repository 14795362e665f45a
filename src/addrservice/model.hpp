#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace addrservice {

// The address-book data model. Conversions round-trip everything the schema allows: a number stays a
// number (integer or not), a string stays a string, an absent field stays absent.

enum class Kind { home, work };

/// A JSON number as written: signed, unsigned (beyond int64) or floating point.
using Number = std::variant<std::int64_t, std::uint64_t, double>;
/// A field the schema lets be either a number or a string.
using NumberOrString = std::variant<std::int64_t, std::uint64_t, double, std::string>;

struct Address {
    Kind kind = Kind::home;
    std::optional<std::string> building_name;
    std::optional<Number> unit_number;
    std::optional<NumberOrString> street_number;
    std::string street_name;
    std::optional<std::string> locality;
    std::optional<std::string> city;
    std::optional<std::string> province;
    NumberOrString pincode;
    std::string country;

    bool operator==(const Address&) const = default;
};

struct Phone {
    Kind kind = Kind::home;
    Number country_code;
    std::optional<Number> area_code;
    Number local_number;

    bool operator==(const Phone&) const = default;
};

struct Email {
    Kind kind = Kind::home;
    std::string email;

    bool operator==(const Email&) const = default;
};

struct AddressEntry {
    std::string full_name;
    std::optional<std::vector<Address>> addresses;
    std::optional<std::vector<Phone>> phone_numbers;
    std::optional<std::vector<Phone>> fax_numbers;
    std::optional<std::vector<Email>> emails;

    bool operator==(const AddressEntry&) const = default;
};

// from_json expects a value that passed schema validation; otherwise it throws nlohmann::json::exception.
void to_json(nlohmann::json& j, const Address& a);
void from_json(const nlohmann::json& j, Address& a);
void to_json(nlohmann::json& j, const Phone& p);
void from_json(const nlohmann::json& j, Phone& p);
void to_json(nlohmann::json& j, const Email& e);
void from_json(const nlohmann::json& j, Email& e);
void to_json(nlohmann::json& j, const AddressEntry& e);
void from_json(const nlohmann::json& j, AddressEntry& e);

}  // namespace addrservice
