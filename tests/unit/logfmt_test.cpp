#include "addrservice/logfmt.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace addrservice {
namespace {

TEST(Logfmt, StringsAreQuotedNumbersAreNot)
{
    LogFields fields;
    fields.add("req_id", "6f1c").add("status", 201).add("time_ms", 0.4123).add("ok", true);
    EXPECT_EQ(fields.to_logfmt(), R"(req_id="6f1c" status=201 time_ms=0.412 ok=true)");
}

TEST(Logfmt, AHugeDoubleIsWrittenInItsShortestForm)
{
    LogFields fields;
    fields.add("big", 1e300).add("max", -1.7976931348623157e308).add("after", 1);
    EXPECT_EQ(fields.to_logfmt(), "big=1e+300 max=-1.7976931348623157e+308 after=1");
    const auto object = nlohmann::json::parse("{" + fields.to_json_members() + "}");
    EXPECT_EQ(object["big"], 1e300);
}

TEST(Logfmt, QuotesAndBackslashesAreEscaped)
{
    LogFields fields;
    fields.add("uri", R"(/a"b\c)");
    EXPECT_EQ(fields.to_logfmt(), R"(uri="/a\"b\\c")");
}

TEST(Logfmt, AValueCannotForgeAKey)
{
    LogFields fields;
    fields.add("uri", R"(/x" status=200 admin="yes)").add("status", 404);
    const auto line = fields.to_logfmt();
    EXPECT_EQ(line, R"(uri="/x\" status=200 admin=\"yes" status=404)");
}

TEST(Logfmt, AValueCannotForgeALine)
{
    LogFields fields;
    fields.add("uri", "/x\n2026-11-26 10:00:00.000 addrservice INFO : message=\"FAKE\"\r\t\x01\x7f");
    const auto line = fields.to_logfmt();
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_NE(line.find(R"(\n2026)"), std::string::npos);
    EXPECT_NE(line.find(R"(\r\t\u0001\u007f")"), std::string::npos);
}

TEST(Logfmt, EscapesAtEitherEndAndSideBySideKeepThePlainRunsBetweenThem)
{
    std::string out;
    append_logfmt_quoted(out, std::string_view("\"ab\\\\cd\x1f\x7f\0e\"", 12));
    EXPECT_EQ(out, R"("\"ab\\\\cd\u001f\u007f\u0000e\"")");
    out.clear();
    append_logfmt_quoted(out, "");
    EXPECT_EQ(out, R"("")");
    append_logfmt_quoted(out, "plain");
    EXPECT_EQ(out, R"("""plain")");  // appended to what out held
}

TEST(Logfmt, AByteToEscapeIsFoundAtEveryPlaceInALongValue)
{
    // Plain bytes are skipped sixteen at a time: a byte to escape must be caught wherever it falls in a
    // block, beside any byte, UTF-8 sequences included.
    const std::vector<std::pair<char, std::string>> escapes{{'"', R"(\")"},        {'\\', R"(\\)"},
                                                            {'\n', R"(\n)"},       {'\x1f', R"(\u001f)"},
                                                            {'\x7f', R"(\u007f)"}, {'\0', R"(\u0000)"}};
    for (const auto& [byte, escaped] : escapes) {
        for (std::size_t at = 2; at < 40; ++at) {
            std::string value = "\xc3\xa9" + std::string(38, 'a');  // é, then plain bytes
            value[at] = byte;
            std::string expected = "\"" + value.substr(0, at) + escaped + value.substr(at + 1) + "\"";
            std::string out;
            append_logfmt_quoted(out, value);
            EXPECT_EQ(out, expected) << "byte " << static_cast<int>(byte) << " at " << at;
        }
    }
    std::string out;
    const std::string text = "Ærøskøbing, Ålesund and Tórshavn ~!# 地址簿 🦭";
    append_logfmt_quoted(out, text + text);  // nothing to escape: copied whole
    EXPECT_EQ(out, "\"" + text + text + "\"");
}

TEST(Logfmt, ALineIsUtf8AndOneLineForEveryReader)
{
    // Bytes that start no UTF-8 sequence (a raw request path, say) become U+FFFD, as in the JSON lines;
    // the characters some readers take for a line end are escaped.
    const std::vector<std::pair<std::string, std::string>> cases{
        {"/a\xff"
         "b",
         "/a\xEF\xBF\xBD"
         "b"},
        {"\xc3", "\xEF\xBF\xBD"},                                  // cut short at the end
        {"\xc3(", "\xEF\xBF\xBD("},                                // a lead byte without its continuation
        {"\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // an overlong '/'
        {"\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // a surrogate
        {"\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // past U+10FFFF
        {"a\xc2\x85"
         "b",
         R"(a\u0085b)"},
        {"a\xe2\x80\xa8"
         "b\xe2\x80\xa9",
         R"(a\u2028b\u2029)"},
        {"\xf0\x9f\xa6\xad \xe2\x80\xa7", "\xf0\x9f\xa6\xad \xe2\x80\xa7"}};  // 🦭 and U+2027 stay as they are
    for (const auto& [value, written] : cases) {
        std::string out;
        append_logfmt_quoted(out, value + std::string(20, 'x'));  // and plain bytes after it
        EXPECT_EQ(out, "\"" + written + std::string(20, 'x') + "\"");
    }
}

TEST(Logfmt, UnicodePassesThrough)
{
    LogFields fields;
    fields.add("service_name", "Carnet d’adresses — Ünïcødé 地址簿");
    EXPECT_EQ(fields.to_logfmt(), "service_name=\"Carnet d’adresses — Ünïcødé 地址簿\"");
}

TEST(Logfmt, KeysAreSanitized)
{
    LogFields fields;
    fields.add("bad key=\"x\"", 1).add("", 2);
    EXPECT_EQ(fields.to_logfmt(), "bad_key__x_=1 _=2");
    EXPECT_EQ(sanitize_log_key("a.b-c_d"), "a.b-c_d");
}

TEST(Logfmt, JsonMembersFormAnObject)
{
    LogFields fields;
    fields.add("uri", "/a\"b\n").add("status", 200).add("time_ms", 1.5).add("ok", false).add("bad", "\xff");
    const auto object = nlohmann::json::parse("{" + fields.to_json_members() + "}");
    EXPECT_EQ(object["uri"], "/a\"b\n");
    EXPECT_EQ(object["status"], 200);
    EXPECT_EQ(object["time_ms"], 1.5);
    EXPECT_EQ(object["ok"], false);
    EXPECT_TRUE(object["bad"].is_string());
}

TEST(Logfmt, FindReturnsTheValue)
{
    LogFields fields;
    fields.add("status", 503).add("uri", "/addresses").add("bad key", true);
    ASSERT_TRUE(fields.find("status").has_value());
    EXPECT_EQ(std::get<std::int64_t>(*fields.find("status")), 503);
    EXPECT_EQ(std::get<std::string_view>(*fields.find("uri")), "/addresses");
    EXPECT_EQ(std::get<bool>(*fields.find("bad_key")), true);  // found by its sanitized name
    EXPECT_FALSE(fields.find("nope").has_value());
    fields.clear();
    EXPECT_EQ(fields.size(), 0U);
    EXPECT_EQ(fields.to_logfmt(), "");
}

TEST(Logfmt, FieldsAddedPastTheReservedRoomKeepTheirKeysAndValues)
{
    // Keys and values share one buffer that grows as fields are added: what was added before a growth
    // must still read back whole.
    LogFields fields;
    std::string expected;
    for (int i = 0; i < 40; ++i) {
        const auto key = "k" + std::to_string(i);
        const auto value = std::string(static_cast<std::size_t>(i) * 7, static_cast<char>('a' + i % 26));
        fields.add(key, value);
        expected += (i == 0 ? "" : " ") + key + "=\"" + value + "\"";
    }
    EXPECT_EQ(fields.size(), 40U);
    EXPECT_EQ(fields.to_logfmt(), expected);
    EXPECT_EQ(std::get<std::string_view>(*fields.find("k39")), std::string(273, 'n'));
}

TEST(Logfmt, NumbersHaveThreeDecimalsRoundedToTheNearest)
{
    const std::vector<std::pair<double, std::string>> cases{{0.0, "0.000"},
                                                            {0.4123, "0.412"},
                                                            {0.4126, "0.413"},
                                                            {1.5, "1.500"},
                                                            {0.0005, "0.001"},
                                                            {0.9996, "1.000"},
                                                            {-0.0004, "-0.000"},
                                                            {-2.25, "-2.250"},
                                                            {123456.789, "123456.789"},
                                                            {999999999999.0, "999999999999.000"},
                                                            {1e12, "1e+12"},
                                                            {-1.5e13, "-1.5e+13"}};
    for (const auto& [value, text] : cases) {
        std::string out;
        append_log_number(out, value);
        EXPECT_EQ(out, text) << value;
    }
    std::string out;
    append_log_number(out, std::numeric_limits<double>::quiet_NaN());
    append_log_number(out, -std::numeric_limits<double>::infinity());
    EXPECT_EQ(out, "nullnull");
}

}  // namespace
}  // namespace addrservice
