#include "addrservice/schema.hpp"
#include "addrservice/json_text.hpp"
#include "support/samples.hpp"

#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace addrservice {

void PrintTo(const Violation& violation, std::ostream* os)
{
    *os << violation.pointer << ": " << violation.message;
}

namespace {

using nlohmann::json;

class SchemaTest : public ::testing::Test {
protected:
    SchemaValidator validator;

    /// The violations of a document written here as nlohmann::json, read as a request body is.
    [[nodiscard]] std::vector<Violation> check(const json& document) const
    {
        return validator.validate(parse_json_body(document.dump()));
    }

    static json valid_entry()
    {
        return json::parse(
            testing::read_file(testing::source_dir() / "data" / "addresses" / "marguerite-okonkwo-lindqvist.json"));
    }
};

TEST_F(SchemaTest, EverySampleIsValid)
{
    const auto files = testing::sample_files();
    ASSERT_GE(files.size(), 2U);
    for (const auto& file : files) {
        EXPECT_EQ(validator.validate(parse_json_body(testing::read_file(file))), std::vector<Violation>{}) << file;
    }
}

TEST_F(SchemaTest, TheFileInTheRepositoryIsTheEmbeddedOne)
{
    EXPECT_EQ(json::parse(testing::read_file(testing::source_dir() / "schema" / "address-book-v1.0.json")),
              json::parse(embedded_schema_text()));
}

TEST_F(SchemaTest, MissingFullNameNamesItAtTheObject)
{
    const auto violations = check(json::object());
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0].pointer, "");
    EXPECT_EQ(violations[0].message, "missing required property 'full_name'");
}

TEST_F(SchemaTest, BadKindPointsAtTheKind)
{
    auto entry = valid_entry();
    entry["addresses"][1]["kind"] = "holiday";
    const auto violations = check(entry);
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0], (Violation{"/addresses/1/kind", "must be one of home, work"}));
}

TEST_F(SchemaTest, WrongTypeNamesTheExpectedType)
{
    auto entry = valid_entry();
    entry["full_name"] = 42;
    entry["phone_numbers"][0]["local_number"] = "5550137";
    entry["addresses"][0]["pincode"] = true;
    const auto violations = check(entry);
    EXPECT_EQ(violations, (std::vector<Violation>{
                              {"/addresses/0/pincode", "must be of type number or string"},
                              {"/full_name", "must be of type string"},
                              {"/phone_numbers/0/local_number", "must be of type number"},
                          }));
}

TEST_F(SchemaTest, UnknownPropertiesAreRefusedAtEveryLevel)
{
    auto entry = valid_entry();
    entry["nickname"] = "Maggie";
    entry["emails"][0]["verified"] = true;
    const auto violations = check(entry);
    EXPECT_EQ(violations, (std::vector<Violation>{
                              {"/emails/0/verified", "unknown property 'verified'"},
                              {"/nickname", "unknown property 'nickname'"},
                          }));
}

TEST_F(SchemaTest, MissingNestedPropertyPointsAtItsObject)
{
    auto entry = valid_entry();
    entry["addresses"][0].erase("country");
    const auto violations = check(entry);
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0], (Violation{"/addresses/0", "missing required property 'country'"}));
}

TEST_F(SchemaTest, ListsMustBeArrays)
{
    auto entry = valid_entry();
    entry["emails"] = {{"kind", "home"}};
    const auto violations = check(entry);
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0], (Violation{"/emails", "must be of type array"}));
}

TEST_F(SchemaTest, EmailMustLookLikeOne)
{
    auto entry = valid_entry();
    entry["emails"][1]["email"] = "not an email";
    const auto violations = check(entry);
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0], (Violation{"/emails/1/email", "must be a valid email address"}));
}

TEST_F(SchemaTest, TopLevelMustBeAnObject)
{
    const auto violations = check(json::array());
    ASSERT_FALSE(violations.empty());
    EXPECT_EQ(violations[0], (Violation{"", "must be of type object"}));
}

TEST_F(SchemaTest, PointerTokensAreEscaped)
{
    const auto violations = check({{"full_name", "X"}, {"a/b~c", 1}});
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0].pointer, "/a~1b~0c");
}

TEST_F(SchemaTest, NumbersTooLargeOrTooSmallForADoubleAreOutOfRange)
{
    const auto violations = validator.validate(parse_json_body(
        R"({"full_name": "X", "addresses": [{"kind": "home", "street_name": "Elm Row", "pincode": 1e400,
            "country": "Freedonia"}], "phone_numbers": [{"kind": "work", "country_code": -1e999, "local_number": 5,
            "area_code": 1e-400}]})"));
    EXPECT_EQ(violations, (std::vector<Violation>{
                              {"/addresses/0/pincode", "number out of range"},
                              {"/phone_numbers/0/area_code", "number out of range"},
                              {"/phone_numbers/0/country_code", "number out of range"},
                          }));
}

TEST_F(SchemaTest, NumbersWithExponentsPastTwoToTheThirtyOneAreOutOfRangeOrZero)
{
    const auto violations = validator.validate(parse_json_body(
        R"({"full_name": "X", "addresses": [{"kind": "home", "street_name": "Elm Row", "pincode": 1e2147483648,
            "country": "Freedonia"}], "phone_numbers": [{"kind": "work", "country_code": 0e2147483648, "local_number": 5,
            "area_code": 7e-99999999999999999999}]})"));
    EXPECT_EQ(violations, (std::vector<Violation>{
                              {"/addresses/0/pincode", "number out of range"},
                              {"/phone_numbers/0/area_code", "number out of range"},
                          }));
}

TEST_F(SchemaTest, AnInvalidSchemaIsRefusedAtConstruction)
{
    EXPECT_THROW(SchemaValidator("{not json"), std::invalid_argument);
}

/// The violations of a valid entry whose value at pointer is replaced by the JSON text value.
std::vector<Violation> with_value_at(const SchemaValidator& validator, std::string_view pointer, std::string_view value)
{
    auto entry = parse_json_body(R"({"full_name": "Wren Halloway", "addresses": [{"kind": "home",
        "street_name": "Elm Row", "pincode": 40817, "country": "Freedonia"}], "phone_numbers": [{"kind": "work",
        "country_code": 99, "local_number": 5550137}], "emails": [{"kind": "home", "email": "wren@halloway.example"}]})");
    entry.at_pointer(pointer) = parse_json_body(value);
    return validator.validate(entry);
}

TEST_F(SchemaTest, AnyValueAsTheEmailIsATypeErrorNotACrash)
{
    for (const auto* value : {"[1]", "{\"a\": 1}", "[]", "{}", "[\"x@y.example\"]", "1", "1.5", "null", "true",
                              "18446744073709551615", "123456789012345678901234567890"}) {
        EXPECT_EQ(with_value_at(validator, "/emails/0/email", value),
                  (std::vector<Violation>{{"/emails/0/email", "must be of type string"}}))
            << value;
    }
}

TEST_F(SchemaTest, AnyValueOfAWrongTypeAnywhereIsAViolationAtItsPointer)
{
    for (const auto* value :
         {"null", "true", "false", "0", "-7", "2.5", "-0", "18446744073709551615", "-123456789012345678901234567890",
          "\"\"", "\"text\"", "[]", "[null]", "[[1], {}]", "{}", "{\"\": []}", "{\"email\": 1}"}) {
        for (const auto* pointer :
             {"/full_name", "/addresses", "/addresses/0/kind", "/addresses/0/street_name", "/addresses/0/pincode",
              "/addresses/0/country", "/phone_numbers", "/phone_numbers/0/country_code",
              "/phone_numbers/0/local_number", "/emails", "/emails/0/kind", "/emails/0/email", "/emails/0"}) {
            for (const auto& violation : with_value_at(validator, pointer, value)) {
                EXPECT_EQ(violation.pointer.rfind(pointer, 0), 0U)
                    << pointer << " = " << value << ": " << violation.pointer;
            }
        }
    }
}

TEST_F(SchemaTest, StringsAreComparedWholeEvenWithANulInside)
{
    EXPECT_EQ(with_value_at(validator, "/emails/0/kind", R"("home\u0000x")"),
              (std::vector<Violation>{{"/emails/0/kind", "must be one of home, work"}}));
}

TEST_F(SchemaTest, IntegersOfAnySizeAreNumbers)
{
    for (
        const auto* value :
        {"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
         "-9223372036854775809", "12345678901234567890123", "-0",
         "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}) {
        EXPECT_EQ(with_value_at(validator, "/addresses/0/pincode", value), std::vector<Violation>{}) << value;
        EXPECT_EQ(with_value_at(validator, "/phone_numbers/0/local_number", value), std::vector<Violation>{}) << value;
        EXPECT_EQ(with_value_at(validator, "/full_name", value),
                  (std::vector<Violation>{{"/full_name", "must be of type string"}}))
            << value;
    }
}

TEST(SchemaTypes, IntegersBeyondSixtyFourBitsAreIntegers)
{
    const SchemaValidator integers(R"({"type": "array", "items": {"type": "integer", "minimum": 0}})");
    EXPECT_EQ(integers.validate(parse_json_body("[0, 18446744073709551615, 12345678901234567890123]")),
              std::vector<Violation>{});
    const auto violations = integers.validate(parse_json_body("[1.5, -12345678901234567890123, \"1\"]"));
    ASSERT_EQ(violations.size(), 3U);
    EXPECT_EQ(violations[0].pointer, "/0");
    EXPECT_EQ(violations[1].pointer, "/1");
    EXPECT_EQ(violations[2].pointer, "/2");
}

TEST(SchemaTypes, AFormatAppliesToStringsOnly)
{
    const SchemaValidator dates(R"({"type": "array", "items": {"format": "date"}})");
    EXPECT_EQ(dates.validate(parse_json_body(R"([[1], {"a": 1}, 7, null, "2024-02-29"])")), std::vector<Violation>{});
    const auto violations = dates.validate(parse_json_body(R"([[], "2024-13-01"])"));
    ASSERT_EQ(violations.size(), 1U);
    EXPECT_EQ(violations[0].pointer, "/1");
}

TEST(SchemaTypes, ASchemaTheLibraryCannotUseIsRefusedNotAnAbort)
{
    EXPECT_THROW(SchemaValidator(R"({"type": 5})"), std::invalid_argument);
    EXPECT_THROW(SchemaValidator(R"({"properties": {"a": {"$ref": "#/definitions/none"}}})"), std::invalid_argument);
}

TEST_F(SchemaTest, UnknownPropertiesAreNamedExactlyWhateverTheirName)
{
    for (const std::string name : {"it's", "'", "''", "a'b'c", "~", "/", "~1", "~0/", "", "a\"b", "x]y", "[z]",
                                   "\xC3\xA9t\xC3\xA9", "\xE5\x90\x8D\xE5\x89\x8D", "\xF0\x9F\x8C\x8D", "tab\there"}) {
        auto entry = valid_entry();
        entry[name] = 1;
        std::string pointer = "/";
        for (const char c : name) {
            pointer += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
        }
        EXPECT_EQ(check(entry), (std::vector<Violation>{{pointer, "unknown property '" + name + "'"}})) << name;
    }
}

TEST_F(SchemaTest, EveryUnknownPropertyIsNamed)
{
    auto entry = valid_entry();
    entry["b'"] = 1;
    entry["a"] = 2;
    entry["addresses"][0]["x/y"] = 3;
    EXPECT_EQ(check(entry), (std::vector<Violation>{
                                {"/a", "unknown property 'a'"},
                                {"/addresses/0/x~1y", "unknown property 'x/y'"},
                                {"/b'", "unknown property 'b''"},
                            }));
}

TEST_F(SchemaTest, MissingPropertiesAreNamedAtTheirObject)
{
    auto entry = valid_entry();
    entry.erase("full_name");
    entry["emails"][0] = json::object();
    EXPECT_EQ(check(entry), (std::vector<Violation>{
                                {"", "missing required property 'full_name'"},
                                {"/emails/0", "missing required property 'email'"},
                                {"/emails/0", "missing required property 'kind'"},
                            }));
}

TEST(EmailFormat, PlausibleAddresses)
{
    EXPECT_TRUE(is_plausible_email("ada@example.org"));
    EXPECT_TRUE(is_plausible_email("a.b+c@mail.example.co"));
    EXPECT_FALSE(is_plausible_email("ada"));
    EXPECT_FALSE(is_plausible_email("@example.org"));
    EXPECT_FALSE(is_plausible_email("ada@example"));
    EXPECT_FALSE(is_plausible_email("ada@@example.org"));
    EXPECT_FALSE(is_plausible_email("ada@.org"));
    EXPECT_FALSE(is_plausible_email("ada@example."));
    EXPECT_FALSE(is_plausible_email("a da@example.org"));
    // Empty words or labels, and labels at a hyphen.
    for (const auto* address : {"a@b..c", ".a@b.c", "a.@b.c", "a..b@c.d", "a@-b.c", "a@b-.c", "a@b.c-", "a@.b.c"}) {
        EXPECT_FALSE(is_plausible_email(address)) << address;
    }
    EXPECT_TRUE(is_plausible_email("wren.o-halloway@mail-1.example.org"));
    // No control character and no space of any kind, anywhere.
    for (const std::string& address :
         {std::string("a@b\0.c", 6), std::string("a\x01@b.c"), std::string("a@b\x7f.c"), std::string("a\v@b.c"),
          std::string("a@b\xc2\x85.c"),
          std::string("a\xc2\xa0"
                      "b@c.d"),
          std::string("a@b\xe2\x80\xa8.c"), std::string("a@b\xe3\x80\x80.c"), std::string("a\xe2\x80\x8b@b.c")}) {
        EXPECT_FALSE(is_plausible_email(address)) << address;
    }
    EXPECT_TRUE(is_plausible_email("\u00e5sa@sm\u00f6rg\u00e5s.example"));
}

}  // namespace
}  // namespace addrservice
