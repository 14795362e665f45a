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

TEST_F(SchemaTest, NumbersTooLargeForADoubleAreOutOfRange)
{
    const auto violations = validator.validate(parse_json_body(
        R"({"full_name": "X", "addresses": [{"kind": "home", "street_name": "Elm Row", "pincode": 1e400,
            "country": "Freedonia"}], "phone_numbers": [{"kind": "work", "country_code": -1e999, "local_number": 5}]})"));
    EXPECT_EQ(violations, (std::vector<Violation>{
                              {"/addresses/0/pincode", "number out of range"},
                              {"/phone_numbers/0/country_code", "number out of range"},
                          }));
}

TEST_F(SchemaTest, AnInvalidSchemaIsRefusedAtConstruction)
{
    EXPECT_THROW(SchemaValidator("{not json"), std::invalid_argument);
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
}

}  // namespace
}  // namespace addrservice
