#include "addrservice/json_text.hpp"
#include "addrservice/errors.hpp"
#include "support/samples.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace addrservice {
namespace {

std::string nested_arrays(std::size_t depth)
{
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonParse, ParsesAnObject)
{
    const auto value = parse_json_body(R"({"full_name": "Ada", "n": [1, 2.5, "x"]})");
    EXPECT_EQ(value.at("full_name"), "Ada");
    EXPECT_EQ(value.at("n").at(1), 2.5);
}

TEST(JsonParse, WhitespaceAroundTheValueIsAllowed)
{
    EXPECT_EQ(parse_json_body(" \t\r\n{\"a\": 1}\n\n").at("a"), 1);
}

TEST(JsonParse, ValuesLiveInTheGivenStorage)
{
    boost::json::monotonic_resource arena;
    const auto value = parse_json_body(R"({"a": ["b"]})", &arena);
    EXPECT_EQ(value.storage().get(), &arena);
    EXPECT_EQ(value.at("a").storage().get(), &arena);
}

TEST(JsonParse, DecimalNumbersAreReadToTheNearestDouble)
{
    // Each is the double nearest to its text; a conversion one unit in the last place off fails here.
    for (const auto* text : {"18.4", "0.1", "2.2250738585072014e-308", "1.7976931348623157e308", "9007199254740993.0",
                             "0.30000000000000004", "-1.1030161663305387", "5e-324", "1e23"}) {
        const double expected = std::strtod(text, nullptr);
        EXPECT_EQ(parse_json_body(text).as_double(), expected) << text;
    }
}

TEST(JsonParse, NumbersOutOfRangeBecomeInfinityOrNotANumber)
{
    // Neither is a value a double holds; the schema check refuses both at their pointers.
    EXPECT_EQ(parse_json_body("1e400").as_double(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse_json_body("-1e400").as_double(), -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(parse_json_body("1e-400").as_double()));
    EXPECT_TRUE(std::isnan(parse_json_body("-0.5e-400").as_double()));
    // Zero written small is zero, and the smallest doubles are kept.
    EXPECT_EQ(parse_json_body("0e-400").as_double(), 0.0);
    EXPECT_EQ(parse_json_body("0.000e-999").as_double(), 0.0);
    EXPECT_EQ(parse_json_body("5e-324").as_double(), std::numeric_limits<double>::denorm_min());
}

TEST(JsonParse, AnExponentBeyondWhatTheParserCountsIsStillANumber)
{
    // Boost.JSON's parser counts an exponent in 32 bits; past that the value is still zero, or out of range.
    for (const auto* text : {"0e2147483648", "-0e2147483648", "0.0e2147483648", "0e-2147483648",
                             "0E+99999999999999999999", "0.000e-99999999999999999999"}) {
        const auto value = parse_json_body(text);
        ASSERT_TRUE(value.is_double()) << text;
        EXPECT_EQ(value.as_double(), 0.0) << text;
    }
    for (const auto* text : {"1e2147483648", "0.1e+2147483648", "1e99999999999999999999", "-1e2147483648"}) {
        EXPECT_TRUE(std::isinf(parse_json_body(text).as_double())) << text;
    }
    for (const auto* text : {"1e-2147483648", "-1e-99999999999999999999", "0.5E-2147483649"}) {
        EXPECT_TRUE(std::isnan(parse_json_body(text).as_double())) << text;
    }
    // In a document, where other numbers and strings that look like exponents are left as they are.
    const auto document =
        parse_json_body(R"({"e": "1e2147483648", "n": [1e-2147483648, 2e3, 0e99999999999], "t": true})");
    EXPECT_EQ(document.at("e").as_string(), "1e2147483648");
    EXPECT_TRUE(std::isnan(document.at("n").at(0).as_double()));
    EXPECT_EQ(document.at("n").at(1).as_double(), 2000.0);
    EXPECT_EQ(document.at("n").at(2).as_double(), 0.0);
    // Where the text is not JSON, the byte named is where it stops being JSON, as for any other text.
    EXPECT_THROW(parse_json_body("[1e99999999999, 2e0000000000"), InvalidJsonError);
    try {
        parse_json_body(R"([1e2147483648, 1e99999999999 x])");
        ADD_FAILURE() << "parsed";
    } catch (const InvalidJsonError& error) {
        EXPECT_NE(std::string(error.what()).find("at byte 29:"), std::string::npos) << error.what();
    }
}

TEST(JsonParse, IntegersStayIntegers)
{
    EXPECT_EQ(parse_json_body("-9223372036854775808").as_int64(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(parse_json_body("18446744073709551615").as_uint64(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_FALSE(parse_json_body("18446744073709551616").is_double());
}

/// An integer of this many digits: 1 followed by zeros.
std::string power_of_ten(std::size_t zeros)
{
    return "1" + std::string(zeros, '0');
}

TEST(JsonParse, IntegersBeyondSixtyFourBitsKeepTheirText)
{
    for (const auto& text : {std::string("18446744073709551616"), std::string("-9223372036854775809"),
                             std::string("12345678901234567890123"), std::string("-12345678901234567890123"),
                             power_of_ten(400), "-" + power_of_ten(400), std::string("-0")}) {
        const auto value = parse_json_body(text);
        EXPECT_EQ(exact_integer_text(value), text);
        EXPECT_FALSE(value.is_double()) << text;
    }
}

TEST(JsonParse, OtherValuesCarryNoIntegerText)
{
    for (const auto* text : {"0", "-7", "18446744073709551615", "-9223372036854775808", "1.5", "1e30", "-0.0",
                             "\"18446744073709551616\"", "\"\"", "null", "[]", "{}"}) {
        EXPECT_EQ(exact_integer_text(parse_json_body(text)), "") << text;
    }
}

TEST(JsonParse, NotJsonIsInvalid)
{
    EXPECT_THROW(parse_json_body("full_name=Ada"), InvalidJsonError);
    EXPECT_THROW(parse_json_body(""), InvalidJsonError);
    EXPECT_THROW(parse_json_body(R"({"a": 1} trailing)"), InvalidJsonError);
    EXPECT_THROW(parse_json_body(R"({"a": 1} {})"), InvalidJsonError);
    EXPECT_THROW(parse_json_body(R"({"a": 1,})"), InvalidJsonError);
    EXPECT_THROW(parse_json_body(R"({"a": 1 /* note */})"), InvalidJsonError);
    EXPECT_THROW(parse_json_body("   "), InvalidJsonError);
    EXPECT_THROW(parse_json_body("NaN"), InvalidJsonError);
}

TEST(JsonParse, ANameTwiceInOneObjectIsInvalidAtAnyDepth)
{
    for (const auto* text : {R"({"full_name": "A", "full_name": "B"})", R"({"a": {"b": 1, "c": 2, "b": 3}})",
                             R"([{"k": 1}, {"k": 1, "k": 1}])", R"({"a": [[{"": 0, "": 0}]]})"}) {
        try {
            parse_json_body(text);
            ADD_FAILURE() << text;
        } catch (const InvalidJsonError& e) {
            EXPECT_STREQ(e.what(), "an object holds the same name twice") << text;
        }
    }
    // The same name in different objects, or as a value, is no repeat.
    EXPECT_NO_THROW(parse_json_body(R"({"k": {"k": "k"}, "j": [{"k": 1}, {"k": 2}]})"));
}

TEST(JsonParse, TheErrorSaysWhere)
{
    try {
        parse_json_body(R"({"a": tru})");
        FAIL() << "no error";
    } catch (const InvalidJsonError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("invalid JSON at byte ", 0), 0U) << e.what();
    }
}

TEST(JsonParse, InvalidUtf8IsInvalid)
{
    EXPECT_THROW(parse_json_body("{\"full_name\": \"\xC3\x28\"}"), InvalidJsonError);
    EXPECT_THROW(parse_json_body("{\"full_name\": \"\xFF\"}"), InvalidJsonError);
    EXPECT_NO_THROW(parse_json_body("{\"full_name\": \"In\xC3\xA8s\"}"));
    // A lone surrogate escape is not a character.
    EXPECT_THROW(parse_json_body(R"({"full_name": "\ud800"})"), InvalidJsonError);
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
    EXPECT_NO_THROW(parse_json_body(nested_arrays(2), {}, 2));
    EXPECT_THROW(parse_json_body(nested_arrays(3), {}, 2), InvalidJsonError);
}

std::string canonical(std::string_view text)
{
    return canonical_json(parse_json_body(text));
}

TEST(CanonicalJson, NoWhitespaceAndKeysSortedAtEveryLevel)
{
    EXPECT_EQ(canonical(R"( { "b" : [ {"z": 1, "a": 2} ], "a" : { "y": null, "x": true } } )"),
              R"({"a":{"x":true,"y":null},"b":[{"a":2,"z":1}]})");
    EXPECT_EQ(canonical("{}"), "{}");
    EXPECT_EQ(canonical("[]"), "[]");
    EXPECT_EQ(canonical("false"), "false");
}

TEST(CanonicalJson, KeysSortByTheirBytes)
{
    EXPECT_EQ(canonical(R"({"b": 1, "B": 2, "\u00e9": 3, "a": 4, "": 5})"),
              "{\"\":5,\"B\":2,\"a\":4,\"b\":1,\"\xC3\xA9\":3}");
}

TEST(CanonicalJson, StringsAreEscapedOnlyWhereJsonRequires)
{
    EXPECT_EQ(canonical(R"(["a\"b\\c\/d", "\u0001\n\t", "In\u00e8s \ud83d\ude00"])"),
              "[\"a\\\"b\\\\c/d\",\"\\u0001\\n\\t\",\"In\xC3\xA8s \xF0\x9F\x98\x80\"]");
}

TEST(CanonicalJson, AnyCharacterAtAnyPlaceOfAStringIsEscapedAsBoostJsonEscapesIt)
{
    // Strings are tested eight bytes at a time: every length around a word's, every place in it, and the
    // bytes on both sides of each limit ('"' is 0x22, '\\' 0x5C; below 0x20 is escaped, 0x20 and up not).
    for (const char special : {'"', '\\', '\x00', '\x01', '\x1F', ' ', '!', '#', '[', ']', '\x7F', '\xC3', '\xFE'}) {
        for (std::size_t length = 1; length <= 25; ++length) {
            for (std::size_t at = 0; at < length; ++at) {
                std::string text(length, 'q');
                text[at] = special;
                const boost::json::value value(text);
                EXPECT_EQ(canonical_json(value), boost::json::serialize(value))
                    << "byte " << static_cast<int>(special) << " at " << at << " of " << length;
            }
        }
    }
}

TEST(CanonicalJson, WhatFollowsAnEscapedStringIsWrittenAfterIt)
{
    EXPECT_EQ(canonical(R"({"b\nc": "x\ty", "a": ["\"", 1, "ok"], "c": {"\\": null}})"),
              R"({"a":["\"",1,"ok"],"b\nc":"x\ty","c":{"\\":null}})");
}

TEST(CanonicalJson, AnyHintGivesTheSameTextInStorageOfAboutItsLength)
{
    // Stores keep the text as long as the entry: what growing it left unused must not stay with it.
    const std::string text = R"({"list":[1,2,3],"name":")" + std::string(3000, 'n') + R"("})";
    const auto document = parse_json_body(text);
    for (const std::size_t hint : std::vector<std::size_t>{0, 1, 10, 100, 3000, text.size(), text.size() + 1, 100000}) {
        const auto written = canonical_json(document, hint);
        EXPECT_EQ(written, text) << hint;
        EXPECT_LE(written.capacity(), text.size() + text.size() / 8 + 32) << hint;
    }
}

TEST(CanonicalJson, LongStringsAreWrittenWhole)
{
    const std::string text(5000, 'x');
    EXPECT_EQ(canonical("\"" + text + "\""), "\"" + text + "\"");
}

TEST(CanonicalJson, NumbersInTheirShortestForm)
{
    EXPECT_EQ(canonical("[0, -0, 42, -7, 18446744073709551615, -9223372036854775808]"),
              "[0,-0,42,-7,18446744073709551615,-9223372036854775808]");
    EXPECT_EQ(canonical("[1.5, 100.0, 1e2, -0.0, 0.1, 18.4, 1e300, 2.5e-7]"),
              "[1.5,100.0,100.0,-0.0,0.1,18.4,1e+300,2.5e-07]");
}

TEST(CanonicalJson, ADoubleWhoseFixedFormSpellsOutItsExactDigitsIsWrittenInTheShorterScientificForm)
{
    // Fixed and scientific were as long; the fixed form needs ".0" to stay a double, so it is longer.
    EXPECT_EQ(canonical("1.2345678901234567e21"), "1.2345678901234568e+21");
    EXPECT_EQ(canonical("-1.9363844800531781e21"), "-1.9363844800531781e+21");
    EXPECT_EQ(canonical("1.2345678901234567e20"), "1.2345678901234567e+20");
    // A tie with ".0" keeps the fixed form, as does a fixed form that is shorter.
    EXPECT_EQ(canonical("[1e2, 123456.0, 12345678.0, 9007199254740993.0]"),
              "[100.0,123456.0,12345678.0,9007199254740992.0]");
}

TEST(CanonicalJson, AFixedFormHasTheShortestDigitsPaddedWithZerosNotTheExactOnes)
{
    // The exact values are 123456789012344992 and 5000000000000001024; the shortest digits read back the same.
    EXPECT_EQ(canonical("1.23456789012345e17"), "123456789012345000.0");
    EXPECT_EQ(canonical("-1.23456789012345e17"), "-123456789012345000.0");
    EXPECT_EQ(canonical("5.000000000000001e18"), "5000000000000001000.0");  // as long as 5.000000000000001e+18
    EXPECT_EQ(canonical("[0.0, -0.0, 1e15, 1234567890123456e3]"), "[0.0,-0.0,1e+15,1234567890123456000.0]");
    for (const auto* text : {"1.23456789012345e17", "9.223372036854776e18", "1.8446744073709552e19", "4.5e16"}) {
        const auto written = canonical(text);
        EXPECT_EQ(parse_json_body(written).as_double(), std::strtod(text, nullptr)) << written;
    }
}

TEST(CanonicalJson, IntegersOfAnySizeAreWrittenAsTheirDigits)
{
    for (const auto& text : {std::string("9223372036854775808"), std::string("18446744073709551616"),
                             std::string("-9223372036854775809"), std::string("12345678901234567890123"),
                             std::string("-12345678901234567890123"), power_of_ten(400), "-" + power_of_ten(400)}) {
        EXPECT_EQ(canonical(text), text);
        EXPECT_EQ(canonical(R"({"n": [)" + text + "]}"), R"({"n":[)" + text + "]}");
    }
}

TEST(CanonicalJson, EveryDoubleReadsBackTheSame)
{
    for (const double number :
         {0.1, 1.0 / 3.0, 2.2250738585072014e-308, 1.7976931348623157e308, 5e-324, 123456789.125}) {
        const auto text = canonical_json(boost::json::value(number));
        EXPECT_EQ(parse_json_body(text).as_double(), number) << text;
    }
}

TEST(CanonicalJson, NumbersJsonCannotCarryAreRefused)
{
    EXPECT_THROW(canonical_json(boost::json::value(std::numeric_limits<double>::infinity())), std::invalid_argument);
    EXPECT_THROW(canonical_json(boost::json::value(std::nan(""))), std::invalid_argument);
}

TEST(CanonicalJson, ItsOwnTextIsCanonical)
{
    for (const auto& file : testing::sample_files()) {
        const auto once = canonical(testing::read_file(file));
        EXPECT_EQ(canonical(once), once) << file;
    }
}

}  // namespace
}  // namespace addrservice
