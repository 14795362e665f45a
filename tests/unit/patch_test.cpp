#include "addrservice/patch.hpp"
#include "addrservice/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace addrservice {
namespace {

using nlohmann::json;

constexpr std::size_t limit = 1 << 20;

json merged(const std::string& target, const std::string& patch)
{
    return json::parse(Patch(PatchFormat::merge_patch, patch).apply(target, limit));
}

json patched(const std::string& target, const std::string& patch)
{
    return json::parse(Patch(PatchFormat::json_patch, patch).apply(target, limit));
}

TEST(MergePatch, TheExamplesOfRfc7396)
{
    EXPECT_EQ(merged(R"({"a":"b"})", R"({"a":"c"})"), json::parse(R"({"a":"c"})"));
    EXPECT_EQ(merged(R"({"a":"b"})", R"({"b":"c"})"), json::parse(R"({"a":"b","b":"c"})"));
    EXPECT_EQ(merged(R"({"a":"b"})", R"({"a":null})"), json::parse(R"({})"));
    EXPECT_EQ(merged(R"({"a":"b","b":"c"})", R"({"a":null})"), json::parse(R"({"b":"c"})"));
    EXPECT_EQ(merged(R"({"a":["b"]})", R"({"a":"c"})"), json::parse(R"({"a":"c"})"));
    EXPECT_EQ(merged(R"({"a":"c"})", R"({"a":["b"]})"), json::parse(R"({"a":["b"]})"));
    EXPECT_EQ(merged(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"), json::parse(R"({"a":{"b":"d"}})"));
    EXPECT_EQ(merged(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"), json::parse(R"({"a":[1]})"));
    EXPECT_EQ(merged(R"(["a","b"])", R"(["c","d"])"), json::parse(R"(["c","d"])"));
    EXPECT_EQ(merged(R"({"a":"b"})", R"(["c"])"), json::parse(R"(["c"])"));
    EXPECT_EQ(merged(R"({"a":"foo"})", "null"), json(nullptr));
    EXPECT_EQ(merged(R"({"a":"foo"})", R"("bar")"), json("bar"));
    EXPECT_EQ(merged(R"({"e":null})", R"({"a":1})"), json::parse(R"({"e":null,"a":1})"));
    EXPECT_EQ(merged(R"([1,2])", R"({"a":"b","c":null})"), json::parse(R"({"a":"b"})"));
    EXPECT_EQ(merged(R"({})", R"({"a":{"bb":{"ccc":null}}})"), json::parse(R"({"a":{"bb":{}}})"));
}

TEST(JsonPatch, TheOperationsOfRfc6902)
{
    EXPECT_EQ(patched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])"),
              json::parse(R"({"baz":"qux","foo":"bar"})"));
    EXPECT_EQ(patched(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])"),
              json::parse(R"({"foo":["bar","qux","baz"]})"));
    EXPECT_EQ(patched(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":"qux"}])"),
              json::parse(R"({"foo":["bar","qux"]})"));
    EXPECT_EQ(patched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])"),
              json::parse(R"({"foo":"bar"})"));
    EXPECT_EQ(patched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])"),
              json::parse(R"({"baz":"boo","foo":"bar"})"));
    EXPECT_EQ(patched(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                      R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])"),
              json::parse(R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"));
    EXPECT_EQ(patched(R"({"foo":["all","grass","cows","eat"]})", R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])"),
              json::parse(R"({"foo":["all","cows","eat","grass"]})"));
    EXPECT_EQ(patched(R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])"),
              json::parse(R"({"a":{"b":1},"c":{"b":1}})"));
    EXPECT_EQ(patched(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10},
                                               {"op":"test","path":"/~1","value":9}])"),
              json::parse(R"({"/":9,"~1":10})"));
    EXPECT_EQ(patched(R"({"n":1})", R"([{"op":"test","path":"/n","value":1.0}])"), json::parse(R"({"n":1})"));
}

void expect_conflict(const std::string& target, const std::string& patch)
{
    const Patch changes(PatchFormat::json_patch, patch);
    EXPECT_THROW((void)changes.apply(target, limit), PatchConflictError) << patch;
}

TEST(JsonPatch, AnOperationThatCannotApplyIsAConflict)
{
    expect_conflict(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])");
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])");
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"remove","path":"/nope"}])");
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"replace","path":"/nope","value":1}])");
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"move","from":"/nope","path":"/x"}])");
    expect_conflict(R"({"foo":[1]})", R"([{"op":"add","path":"/foo/5","value":2}])");
    expect_conflict(R"({"foo":[1]})", R"([{"op":"remove","path":"/foo/bar"}])");
    expect_conflict(R"({"foo":[1]})", R"([{"op":"remove","path":"/foo/01"}])");
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"remove","path":""}])");
    expect_conflict(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])");
    // Into its own child, where the item that takes its place would take the member (RFC 6902 section 4.4).
    expect_conflict(R"({"a":[{"k":1},{"k":2}]})", R"([{"op":"move","from":"/a/0","path":"/a/0/x"}])");
    expect_conflict(R"({"a":{"b":1}})", R"([{"op":"move","from":"","path":"/a/c"}])");
    // A scalar or null parent has no members to add or remove (nlohmann would assert, or make an object).
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"add","path":"/foo/x","value":1}])");
    expect_conflict(R"({"foo":"bar"})", R"([{"op":"remove","path":"/foo/x"}])");
    expect_conflict(R"({"foo":null})", R"([{"op":"add","path":"/foo/x","value":1}])");
    expect_conflict(R"({"foo":1})", R"([{"op":"copy","from":"/foo","path":"/foo/x"}])");
}

TEST(JsonPatch, AFailedOperationLeavesNothingOfTheOthers)
{
    // apply() returns text only when every operation applied: the stored entry is untouched otherwise.
    expect_conflict(R"({"a":1})", R"([{"op":"replace","path":"/a","value":2},{"op":"test","path":"/a","value":1}])");
}

TEST(JsonPatch, AMalformedPatchIsInvalidJsonBeforeAnyOperationApplies)
{
    for (const char* patch : {
             "not json",
             R"({"op":"add","path":"/a","value":1})",                               // not an array
             R"([1])",                                                              // not an object
             R"([{"path":"/a","value":1}])",                                        // no op
             R"([{"op":"frobnicate","path":"/a"}])",                                // unknown op
             R"([{"op":"add","value":1}])",                                         // no path
             R"([{"op":"add","path":"/a"}])",                                       // no value
             R"([{"op":"move","path":"/a"}])",                                      // no from
             R"([{"op":"add","path":"a","value":1}])",                              // not a pointer
             R"([{"op":"add","path":"/~2","value":1}])",                            // a bad escape
             R"([{"op":"test","path":"/x","value":0},{"op":"nope","path":"/a"}])",  // later, still first
         }) {
        EXPECT_THROW(Patch(PatchFormat::json_patch, patch), InvalidJsonError) << patch;
    }
}

TEST(Patch, ANameTwiceInOneObjectIsInvalidJson)
{
    // Keeping the last "op" would turn this test into a replace.
    EXPECT_THROW(Patch(PatchFormat::json_patch, R"([{"op": "test", "op": "replace", "path": "/a", "value": 1}])"),
                 InvalidJsonError);
    EXPECT_THROW(Patch(PatchFormat::merge_patch, R"({"a": {"b": null, "b": 1}})"), InvalidJsonError);
    EXPECT_NO_THROW(Patch(PatchFormat::merge_patch, R"({"a": {"a": 1}})"));
}

TEST(Patch, ANumberTooSmallForADoubleIsRefusedNotMadeZero)
{
    EXPECT_THROW(Patch(PatchFormat::merge_patch, R"({"a": 1e-400})"), InvalidJsonError);
    EXPECT_THROW(Patch(PatchFormat::json_patch, R"([{"op": "add", "path": "/a", "value": -2.5e-330}])"),
                 InvalidJsonError);
    EXPECT_EQ(Patch(PatchFormat::merge_patch, R"({"a": 0e-400})").apply("{}", 1000), R"({"a":0.0})");
}

TEST(Patch, ABodyThatIsNotJsonIsInvalidJson)
{
    EXPECT_THROW(Patch(PatchFormat::merge_patch, "{\"a\": "), InvalidJsonError);
    EXPECT_THROW(Patch(PatchFormat::merge_patch, "{\"a\": 1} x"), InvalidJsonError);
    EXPECT_THROW(Patch(PatchFormat::merge_patch, "{\"a\": \"\xC3\x28\"}"), InvalidJsonError);
    // At most max_json_depth levels of nesting.
    EXPECT_NO_THROW(Patch(PatchFormat::merge_patch, std::string(64, '[') + std::string(64, ']')));
    EXPECT_THROW(Patch(PatchFormat::merge_patch, std::string(65, '[') + std::string(65, ']')), InvalidJsonError);
    EXPECT_THROW(Patch(PatchFormat::merge_patch, std::string(100000, '[') + std::string(100000, ']')),
                 InvalidJsonError);
}

TEST(Patch, NumbersLeftAloneKeepTheirText)
{
    const std::string entry = R"({"big":123456789012345678901234567890,"neg":-98765432109876543210,)"
                              R"("small":7,"half":0.5,"x":1})";
    const auto text = Patch(PatchFormat::merge_patch, R"({"x":2})").apply(entry, limit);
    EXPECT_NE(text.find(R"("big":123456789012345678901234567890)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("neg":-98765432109876543210)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("half":0.5)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("x":2)"), std::string::npos) << text;
}

TEST(Patch, AMinusZeroLeftAloneStaysMinusZero)
{
    const auto entry = R"({"full_name":"A","phone_numbers":[{"country_code":1,"kind":"home","local_number":-0}]})";
    const auto expected =
        std::string(R"({"full_name":"B","phone_numbers":[{"country_code":1,"kind":"home","local_number":-0}]})");
    EXPECT_EQ(Patch(PatchFormat::merge_patch, R"({"full_name":"B"})").apply(entry, limit), expected);
    EXPECT_EQ(
        Patch(PatchFormat::json_patch, R"([{"op":"replace","path":"/full_name","value":"B"}])").apply(entry, limit),
        expected);
    EXPECT_EQ(Patch(PatchFormat::merge_patch, R"({"n":0})").apply("{}", limit), R"({"n":0})");
}

TEST(Patch, AMinusZeroThePatchWritesIsWrittenAsAPutWouldStoreIt)
{
    EXPECT_EQ(Patch(PatchFormat::merge_patch, R"({"n":-0,"m":[-0,0]})").apply("{}", limit), R"({"m":[-0,0],"n":-0})");
    EXPECT_EQ(Patch(PatchFormat::json_patch, R"([{"op":"add","path":"/n","value":-0}])").apply("{}", limit),
              R"({"n":-0})");
    EXPECT_EQ(Patch(PatchFormat::json_patch, R"([{"op":"add","path":"/n","value":-0.0}])").apply("{}", limit),
              R"({"n":-0.0})");
}

TEST(Patch, ATestComparesNumbersByTheirValue)
{
    const std::string entry = R"({"z":-0,"i":5,"d":12345678901234568.0,"big":123456789012345678901234567890,)"
                              R"("o":{"a":1,"b":[0.5,-0]},"n":9007199254740993,"e":12345678901234567741440,)"
                              R"("g":12345678901234567890123})";
    for (const auto* test : {
             R"([{"op":"test","path":"/z","value":-0}])",
             R"([{"op":"test","path":"/z","value":0}])",
             R"([{"op":"test","path":"/z","value":-0.0}])",
             R"([{"op":"test","path":"/z","value":0.0}])",
             R"([{"op":"test","path":"/i","value":5.0}])",
             R"([{"op":"test","path":"/i","value":5e0}])",
             R"([{"op":"test","path":"/d","value":12345678901234568.0}])",
             R"([{"op":"test","path":"/d","value":12345678901234567.0}])",
             R"([{"op":"test","path":"/d","value":1.2345678901234568e16}])",
             R"([{"op":"test","path":"/big","value":123456789012345678901234567890}])",
             R"([{"op":"test","path":"/o","value":{"b":[0.50,0],"a":1.0}}])",
             // The exact value of the double 1.2345678901234568e22.
             R"([{"op":"test","path":"/e","value":1.2345678901234568e22}])",
             R"([{"op":"test","path":"/n","value":9007199254740993}])",
         }) {
        EXPECT_NO_THROW((void)Patch(PatchFormat::json_patch, test).apply(entry, limit)) << test;
    }
    for (const auto* test : {
             R"([{"op":"test","path":"/z","value":1}])",
             R"([{"op":"test","path":"/z","value":"0"}])",
             R"([{"op":"test","path":"/z","value":null}])",
             R"([{"op":"test","path":"/i","value":5.5}])",
             R"([{"op":"test","path":"/i","value":5.000000000000001}])",
             // An integer equals a double only when it is the double's exact value, not the double nearest it.
             R"([{"op":"test","path":"/n","value":9007199254740992.0}])",
             R"([{"op":"test","path":"/g","value":1.2345678901234568e22}])",
             R"([{"op":"test","path":"/d","value":12345678901234570.0}])",
             R"([{"op":"test","path":"/big","value":123456789012345678901234567891}])",
             R"([{"op":"test","path":"/o","value":{"a":1}}])",
             R"([{"op":"test","path":"/o","value":{"a":1,"b":[0.5]}}])",
             R"([{"op":"test","path":"/o","value":{"a":1,"b":[0.5,-0],"c":2}}])",
             R"([{"op":"test","path":"/missing","value":1}])",
         }) {
        expect_conflict(entry, test);
    }
}

TEST(Patch, AnEntryHoldingAnIntegerBeyondADoublesRangeIsPatchedAndKeepsIt)
{
    // nlohmann refuses such an integer ("number overflow"): the entry is read as every entry is.
    const auto huge = "1" + std::string(400, '0');
    const auto entry = R"({"a":-)" + huge + R"(,"b":1,"c":1e+300,"d":12345678901234568.0})";
    const auto expected = R"({"a":-)" + huge + R"(,"b":2,"c":1e+300,"d":12345678901234568.0})";
    EXPECT_EQ(Patch(PatchFormat::merge_patch, R"({"b":2})").apply(entry, limit), expected);
    EXPECT_EQ(Patch(PatchFormat::json_patch, R"([{"op":"replace","path":"/b","value":2}])").apply(entry, limit),
              expected);
    // It equals no double (as a double it would be out of range, never 0 or the largest one).
    expect_conflict(entry, R"([{"op":"test","path":"/a","value":0.0}])");
    expect_conflict(entry, R"([{"op":"test","path":"/a","value":-1.7976931348623157e308}])");
}

TEST(Patch, BigNumbersInThePatchKeepTheirTextToo)
{
    const auto text = Patch(PatchFormat::merge_patch, R"({"y":98765432109876543210987654321})").apply("{}", limit);
    EXPECT_EQ(text, R"({"y":98765432109876543210987654321})");
    const std::string entry = R"({"big":123456789012345678901234567890})";
    EXPECT_NO_THROW((void)Patch(PatchFormat::json_patch, R"([{"op":"test","path":"/big",
        "value":123456789012345678901234567890}])")
                        .apply(entry, limit));
    expect_conflict(entry, R"([{"op":"test","path":"/big","value":123456789012345678901234567891}])");
}

TEST(Patch, CopiesCannotGrowTheEntryWithoutBound)
{
    std::string patch = R"([{"op":"add","path":"/a","value":")" + std::string(1000, 'x') + R"("})";
    // Each copy of the whole entry into a new member doubles it.
    for (int i = 0; i < 40; ++i) {
        patch += R"(,{"op":"copy","from":"","path":"/a)" + std::to_string(i) + R"("})";
    }
    patch += "]";
    const Patch changes(PatchFormat::json_patch, patch);
    EXPECT_THROW((void)changes.apply("{}", limit), EntryTooLargeError);
}

TEST(Patch, MovingALargeValueBackAndForthIsBounded)
{
    // Each move copies what it moves: 1,000 moves of a 100 KB list would copy 100 MB.
    std::string entry = R"({"full_name":"A","emails":[)";
    for (int i = 0; i < 2000; ++i) {
        entry += std::string(i == 0 ? "" : ",") + R"({"kind":"home","email":"wren@example.org"})";
    }
    entry += "]}";
    std::string patch = "[";
    for (int i = 0; i < 500; ++i) {
        patch += std::string(i == 0 ? "" : ",") + R"({"op":"move","from":"/emails","path":"/phone_numbers"},)" +
                 R"({"op":"move","from":"/phone_numbers","path":"/emails"})";
    }
    patch += "]";
    const Patch changes(PatchFormat::json_patch, patch);
    EXPECT_THROW((void)changes.apply(entry, entry.size()), EntryTooLargeError);
    // A few moves of the same list are fine.
    const Patch few(PatchFormat::json_patch, R"([{"op":"move","from":"/emails","path":"/phone_numbers"},)"
                                             R"({"op":"move","from":"/phone_numbers","path":"/emails"}])");
    EXPECT_EQ(json::parse(few.apply(entry, entry.size())), json::parse(entry));
}

TEST(Patch, APatchOfMoreThanAThousandOperationsIsTooLarge)
{
    const auto tests = [](int count) {
        std::string patch = "[";
        for (int i = 0; i < count; ++i) {
            patch += std::string(i == 0 ? "" : ",") + R"({"op":"test","path":"/full_name","value":"A"})";
        }
        return patch + "]";
    };
    EXPECT_THROW(Patch(PatchFormat::json_patch, tests(1001)), EntryTooLargeError);
    EXPECT_EQ(patched(R"({"full_name":"A"})", tests(1000)), json::parse(R"({"full_name":"A"})"));
}

TEST(Patch, TheResultIsBoundedByTheLimit)
{
    const Patch changes(PatchFormat::merge_patch, R"({"a":")" + std::string(2000, 'x') + R"("})");
    EXPECT_NO_THROW((void)changes.apply("{}", 4096));
    EXPECT_THROW((void)changes.apply("{}", 1024), EntryTooLargeError);
}

TEST(Patch, AddsCannotNestTheEntryPastTheDepthLimit)
{
    // Each value is within the limit; the second, added inside the first, would take the entry past it.
    std::string deep = "{}";
    std::string path = "/a";
    for (int i = 0; i < 59; ++i) {
        deep = R"({"x":)" + deep + "}";
        path += "/x";
    }
    const std::string patch = R"([{"op":"add","path":"/a","value":)" + deep + R"(},{"op":"add","path":")" + path +
                              R"(/y","value":{"1":{"2":{"3":{"4":{"5":1}}}}}}])";
    const Patch changes(PatchFormat::json_patch, patch);
    EXPECT_THROW((void)changes.apply(R"({"b":1})", limit), InvalidJsonError);
}

}  // namespace
}  // namespace addrservice
