#include "addrservice/json_parse.hpp"
#include "addrservice/errors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace addrservice {
namespace {

std::string nested_arrays(std::size_t depth)
{
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonParse, ParsesAnObject)
{
    const auto value = parse_json_body(R"({"full_name": "Ada", "n": [1, 2.5, "x"]})");
    EXPECT_EQ(value["full_name"], "Ada");
    EXPECT_EQ(value["n"][1], 2.5);
}

TEST(JsonParse, NotJsonIsInvalid)
{
    EXPECT_THROW(parse_json_body("full_name=Ada"), InvalidJsonError);
    EXPECT_THROW(parse_json_body(""), InvalidJsonError);
    EXPECT_THROW(parse_json_body(R"({"a": 1} trailing)"), InvalidJsonError);
}

TEST(JsonParse, InvalidUtf8IsInvalid)
{
    EXPECT_THROW(parse_json_body("{\"full_name\": \"\xC3\x28\"}"), InvalidJsonError);
    EXPECT_THROW(parse_json_body("{\"full_name\": \"\xFF\"}"), InvalidJsonError);
    EXPECT_NO_THROW(parse_json_body("{\"full_name\": \"In\xC3\xA8s\"}"));
}

TEST(JsonParse, SixtyFourLevelsAreAcceptedAndTheOutermostCounts)
{
    EXPECT_NO_THROW(parse_json_body(nested_arrays(64)));
    EXPECT_THROW(parse_json_body(nested_arrays(65)), InvalidJsonError);
    // Objects count the same as arrays.
    std::string objects;
    for (int i = 0; i < 64; ++i) {
        objects += R"({"a":)";
    }
    objects += "1" + std::string(64, '}');
    EXPECT_NO_THROW(parse_json_body(objects));
    EXPECT_THROW(parse_json_body("[" + objects + "]"), InvalidJsonError);
}

TEST(JsonParse, VeryDeepInputIsAnErrorNotACrash)
{
    EXPECT_THROW(parse_json_body(nested_arrays(100000)), InvalidJsonError);
    EXPECT_THROW(parse_json_body(std::string(100000, '[')), InvalidJsonError);
}

TEST(JsonParse, DepthLimitIsAdjustable)
{
    EXPECT_NO_THROW(parse_json_body(nested_arrays(2), 2));
    EXPECT_THROW(parse_json_body(nested_arrays(3), 2), InvalidJsonError);
}

}  // namespace
}  // namespace addrservice
