#include "addrservice/logfmt.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

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
    fields.add("status", 503);
    ASSERT_NE(fields.find("status"), nullptr);
    EXPECT_EQ(std::get<std::int64_t>(*fields.find("status")), 503);
    EXPECT_EQ(fields.find("nope"), nullptr);
    fields.clear();
    EXPECT_TRUE(fields.fields().empty());
}

}  // namespace
}  // namespace addrservice
