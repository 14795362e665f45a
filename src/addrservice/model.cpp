#include "addrservice/model.hpp"

#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace addrservice {

namespace {

using nlohmann::json;

Kind kind_from_json(const json& j)
{
    const auto& text = j.get_ref<const std::string&>();
    if (text == "home") {
        return Kind::home;
    }
    if (text == "work") {
        return Kind::work;
    }
    throw std::invalid_argument("kind must be home or work, not " + text);
}

const char* kind_name(Kind kind)
{
    return kind == Kind::home ? "home" : "work";
}

Number number_from_json(const json& j)
{
    switch (j.type()) {
        case json::value_t::number_integer:
            return j.get<std::int64_t>();
        case json::value_t::number_unsigned: {
            // nlohmann reads every non-negative integer as unsigned; keep int64 where it fits.
            const auto value = j.get<std::uint64_t>();
            if (value <= static_cast<std::uint64_t>(INT64_MAX)) {
                return static_cast<std::int64_t>(value);
            }
            return value;
        }
        case json::value_t::number_float:
            return j.get<double>();
        default:
            throw std::invalid_argument("expected a number, got " + std::string(j.type_name()));
    }
}

NumberOrString number_or_string_from_json(const json& j)
{
    if (j.is_string()) {
        return j.get<std::string>();
    }
    return std::visit([](auto n) -> NumberOrString { return n; }, number_from_json(j));
}

template <typename Variant>
json variant_to_json(const Variant& v)
{
    return std::visit([](const auto& x) { return json(x); }, v);
}

template <typename T, typename Read>
void read_optional(const json& j, const char* key, std::optional<T>& out, Read read)
{
    if (const auto it = j.find(key); it != j.end()) {
        out = read(*it);
    }
}

template <typename T>
struct is_variant : std::false_type {
};
template <typename... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {
};

template <typename T>
void write_optional(json& j, const char* key, const std::optional<T>& value)
{
    if (value) {
        if constexpr (is_variant<T>::value) {
            j[key] = variant_to_json(*value);
        } else {
            j[key] = *value;
        }
    }
}

std::string string_from_json(const json& j)
{
    return j.get<std::string>();
}

}  // namespace

void to_json(json& j, const Address& a)
{
    j = json::object();
    j["kind"] = kind_name(a.kind);
    write_optional(j, "building_name", a.building_name);
    write_optional(j, "unit_number", a.unit_number);
    write_optional(j, "street_number", a.street_number);
    j["street_name"] = a.street_name;
    write_optional(j, "locality", a.locality);
    write_optional(j, "city", a.city);
    write_optional(j, "province", a.province);
    j["pincode"] = variant_to_json(a.pincode);
    j["country"] = a.country;
}

void from_json(const json& j, Address& a)
{
    a.kind = kind_from_json(j.at("kind"));
    read_optional(j, "building_name", a.building_name, string_from_json);
    read_optional(j, "unit_number", a.unit_number, number_from_json);
    read_optional(j, "street_number", a.street_number, number_or_string_from_json);
    a.street_name = j.at("street_name").get<std::string>();
    read_optional(j, "locality", a.locality, string_from_json);
    read_optional(j, "city", a.city, string_from_json);
    read_optional(j, "province", a.province, string_from_json);
    a.pincode = number_or_string_from_json(j.at("pincode"));
    a.country = j.at("country").get<std::string>();
}

void to_json(json& j, const Phone& p)
{
    j = json::object();
    j["kind"] = kind_name(p.kind);
    j["country_code"] = variant_to_json(p.country_code);
    write_optional(j, "area_code", p.area_code);
    j["local_number"] = variant_to_json(p.local_number);
}

void from_json(const json& j, Phone& p)
{
    p.kind = kind_from_json(j.at("kind"));
    p.country_code = number_from_json(j.at("country_code"));
    read_optional(j, "area_code", p.area_code, number_from_json);
    p.local_number = number_from_json(j.at("local_number"));
}

void to_json(json& j, const Email& e)
{
    j = json{{"kind", kind_name(e.kind)}, {"email", e.email}};
}

void from_json(const json& j, Email& e)
{
    e.kind = kind_from_json(j.at("kind"));
    e.email = j.at("email").get<std::string>();
}

void to_json(json& j, const AddressEntry& e)
{
    j = json::object();
    j["full_name"] = e.full_name;
    write_optional(j, "addresses", e.addresses);
    write_optional(j, "phone_numbers", e.phone_numbers);
    write_optional(j, "fax_numbers", e.fax_numbers);
    write_optional(j, "emails", e.emails);
}

void from_json(const json& j, AddressEntry& e)
{
    e.full_name = j.at("full_name").get<std::string>();
    read_optional(j, "addresses", e.addresses, [](const json& v) { return v.get<std::vector<Address>>(); });
    read_optional(j, "phone_numbers", e.phone_numbers, [](const json& v) { return v.get<std::vector<Phone>>(); });
    read_optional(j, "fax_numbers", e.fax_numbers, [](const json& v) { return v.get<std::vector<Phone>>(); });
    read_optional(j, "emails", e.emails, [](const json& v) { return v.get<std::vector<Email>>(); });
}

}  // namespace addrservice
