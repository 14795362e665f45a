#pragma once

// valijson's view of a request body parsed by parse_json_body. valijson's own Boost.JSON adapter counts
// only int64 values as integers (a uint64 is no number to it) and reads strings up to their first NUL;
// this one sees every integer as one, exact integers included, and every string whole.

#include "addrservice/json_text.hpp"

#include <boost/json/value.hpp>
#include <valijson/internal/adapter.hpp>
#include <valijson/internal/basic_adapter.hpp>
#include <valijson/internal/frozen_value.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <utility>

namespace addrservice::schema_adapter {

namespace json = boost::json;

/// The nearest double to a number, exact integers included (infinite beyond a double's range), for
/// the constraints that compare numbers (minimum, maximum, multipleOf, enum). False when not a number.
inline bool approximate_number(const json::value& value, double& result) noexcept
{
    switch (value.kind()) {
        case json::kind::int64:
            result = static_cast<double>(value.get_int64());
            return true;
        case json::kind::uint64:
            result = static_cast<double>(value.get_uint64());
            return true;
        case json::kind::double_:
            result = value.get_double();
            return true;
        default:
            break;
    }
    const auto text = exact_integer_text(value);
    if (text.empty()) {
        return false;
    }
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
    if (error == std::errc::result_out_of_range) {
        result =
            text.front() == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    return true;
}

class BodyAdapter;
class BodyArrayIterator;
class BodyObjectIterator;

using BodyObjectMember = std::pair<std::string, BodyAdapter>;

class BodyArray {
public:
    using const_iterator = BodyArrayIterator;
    using iterator = BodyArrayIterator;

    BodyArray() : array_(&empty()) {}
    explicit BodyArray(const json::array& array) : array_(&array) {}

    [[nodiscard]] BodyArrayIterator begin() const;
    [[nodiscard]] BodyArrayIterator end() const;
    [[nodiscard]] std::size_t size() const { return array_->size(); }

private:
    static const json::array& empty()
    {
        static const json::array array;
        return array;
    }

    const json::array* array_;
};

class BodyObject {
public:
    using const_iterator = BodyObjectIterator;
    using iterator = BodyObjectIterator;

    BodyObject() : object_(&empty()) {}
    explicit BodyObject(const json::object& object) : object_(&object) {}

    [[nodiscard]] BodyObjectIterator begin() const;
    [[nodiscard]] BodyObjectIterator end() const;
    [[nodiscard]] BodyObjectIterator find(const std::string& name) const;
    [[nodiscard]] std::size_t size() const { return object_->size(); }

private:
    static const json::object& empty()
    {
        static const json::object object;
        return object;
    }

    const json::object* object_;
};

/// A value of the document as valijson's BasicAdapter asks about it.
class BodyValue {
public:
    BodyValue() : value_(&empty()) {}
    explicit BodyValue(const json::value& value) : value_(&value) {}

    [[nodiscard]] valijson::adapters::FrozenValue* freeze() const;

    [[nodiscard]] std::optional<BodyArray> getArrayOptional() const
    {
        if (const auto* array = value_->if_array()) {
            return BodyArray(*array);
        }
        return std::nullopt;
    }
    [[nodiscard]] std::optional<BodyObject> getObjectOptional() const
    {
        if (const auto* object = value_->if_object()) {
            return BodyObject(*object);
        }
        return std::nullopt;
    }
    bool getArraySize(std::size_t& result) const
    {
        const auto* array = value_->if_array();
        if (array != nullptr) {
            result = array->size();
        }
        return array != nullptr;
    }
    bool getObjectSize(std::size_t& result) const
    {
        const auto* object = value_->if_object();
        if (object != nullptr) {
            result = object->size();
        }
        return object != nullptr;
    }
    bool getBool(bool& result) const
    {
        const auto* boolean = value_->if_bool();
        if (boolean != nullptr) {
            result = *boolean;
        }
        return boolean != nullptr;
    }
    bool getDouble(double& result) const
    {
        const auto* number = value_->if_double();
        if (number != nullptr) {
            result = *number;
        }
        return number != nullptr;
    }
    /// Only an int64 has an int64 value; other integers answer through approximate_number.
    bool getInteger(std::int64_t& result) const
    {
        const auto* number = value_->if_int64();
        if (number != nullptr) {
            result = *number;
        }
        return number != nullptr;
    }
    bool getString(std::string& result) const
    {
        if (!isString()) {
            return false;
        }
        const auto& text = value_->get_string();
        result.assign(text.data(), text.size());
        return true;
    }

    static bool hasStrictTypes() { return true; }

    [[nodiscard]] bool isArray() const { return value_->is_array(); }
    [[nodiscard]] bool isBool() const { return value_->is_bool(); }
    [[nodiscard]] bool isDouble() const { return value_->is_double(); }
    [[nodiscard]] bool isInteger() const
    {
        return value_->is_int64() || value_->is_uint64() || !exact_integer_text(*value_).empty();
    }
    [[nodiscard]] bool isNull() const { return value_->is_null(); }
    [[nodiscard]] bool isNumber() const { return value_->is_number() || !exact_integer_text(*value_).empty(); }
    [[nodiscard]] bool isObject() const { return value_->is_object(); }
    [[nodiscard]] bool isString() const { return value_->is_string() && exact_integer_text(*value_).empty(); }

private:
    static const json::value& empty()
    {
        static const json::value value;
        return value;
    }

    const json::value* value_;
};

class BodyAdapter
    : public valijson::adapters::BasicAdapter<BodyAdapter, BodyArray, BodyObjectMember, BodyObject, BodyValue> {
public:
    BodyAdapter() : value_(nullptr) {}
    explicit BodyAdapter(const json::value& value) : BasicAdapter(BodyValue(value)), value_(&value) {}

    using BasicAdapter::asDouble;
    using BasicAdapter::getNumber;

    bool asDouble(double& result) const override
    {
        return (value_ != nullptr && approximate_number(*value_, result)) || BasicAdapter::asDouble(result);
    }
    bool getNumber(double& result) const override { return value_ != nullptr && approximate_number(*value_, result); }

private:
    const json::value* value_;
};

class BodyFrozenValue : public valijson::adapters::FrozenValue {
public:
    explicit BodyFrozenValue(json::value value) : value_(std::move(value)) {}

    [[nodiscard]] FrozenValue* clone() const override { return new BodyFrozenValue(value_); }
    [[nodiscard]] bool equalTo(const valijson::adapters::Adapter& other, bool strict) const override
    {
        return BodyAdapter(value_).equalTo(other, strict);
    }

private:
    json::value value_;
};

inline valijson::adapters::FrozenValue* BodyValue::freeze() const
{
    return new BodyFrozenValue(*value_);
}

class BodyArrayIterator {
public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = BodyAdapter;
    using difference_type = std::ptrdiff_t;
    using pointer = BodyAdapter*;
    using reference = BodyAdapter&;

    explicit BodyArrayIterator(json::array::const_iterator position) : position_(position) {}

    BodyAdapter operator*() const { return BodyAdapter(*position_); }
    valijson::adapters::DerefProxy<BodyAdapter> operator->() const
    {
        return valijson::adapters::DerefProxy<BodyAdapter>(**this);
    }
    bool operator==(const BodyArrayIterator& other) const { return position_ == other.position_; }
    bool operator!=(const BodyArrayIterator& other) const { return position_ != other.position_; }
    BodyArrayIterator& operator++()
    {
        ++position_;
        return *this;
    }
    // valijson uses it; the const result cert-dcl21-cpp asks for would trip readability-const-return-type.
    BodyArrayIterator operator++(int)  // NOLINT(cert-dcl21-cpp)
    {
        auto before = *this;
        ++position_;
        return before;
    }
    BodyArrayIterator& operator--()
    {
        --position_;
        return *this;
    }
    void advance(std::ptrdiff_t n) { position_ += n; }

private:
    json::array::const_iterator position_;
};

class BodyObjectIterator {
public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = BodyObjectMember;
    using difference_type = std::ptrdiff_t;
    using pointer = BodyObjectMember*;
    using reference = BodyObjectMember&;

    explicit BodyObjectIterator(json::object::const_iterator position) : position_(position) {}

    BodyObjectMember operator*() const { return {std::string(position_->key()), BodyAdapter(position_->value())}; }
    valijson::adapters::DerefProxy<BodyObjectMember> operator->() const
    {
        return valijson::adapters::DerefProxy<BodyObjectMember>(**this);
    }
    bool operator==(const BodyObjectIterator& other) const { return position_ == other.position_; }
    bool operator!=(const BodyObjectIterator& other) const { return position_ != other.position_; }
    BodyObjectIterator& operator++()
    {
        ++position_;
        return *this;
    }
    // valijson uses it; the const result cert-dcl21-cpp asks for would trip readability-const-return-type.
    BodyObjectIterator operator++(int)  // NOLINT(cert-dcl21-cpp)
    {
        auto before = *this;
        ++position_;
        return before;
    }
    BodyObjectIterator& operator--()
    {
        --position_;
        return *this;
    }

private:
    json::object::const_iterator position_;
};

inline BodyArrayIterator BodyArray::begin() const
{
    return BodyArrayIterator(array_->begin());
}

inline BodyArrayIterator BodyArray::end() const
{
    return BodyArrayIterator(array_->end());
}

inline BodyObjectIterator BodyObject::begin() const
{
    return BodyObjectIterator(object_->begin());
}

inline BodyObjectIterator BodyObject::end() const
{
    return BodyObjectIterator(object_->end());
}

inline BodyObjectIterator BodyObject::find(const std::string& name) const
{
    return BodyObjectIterator(object_->find(name));
}

}  // namespace addrservice::schema_adapter
