#include "addrservice/schema_precheck.hpp"
#include "addrservice/json_text.hpp"
#include "addrservice/schema.hpp"
#include "support/samples.hpp"

#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace addrservice {
namespace {

bool compiles(const nlohmann::json& schema)
{
    return SchemaPrecheck::compile(schema).has_value();
}

TEST(SchemaPrecheck, TheEntrySchemaCompiles)
{
    EXPECT_TRUE(compiles(nlohmann::json::parse(embedded_schema_text())));
}

TEST(SchemaPrecheck, ASchemaWithAKeywordItDoesNotKnowDoesNotCompile)
{
    for (const auto* text : {
             R"({"type": "string", "minLength": 1})",
             R"({"anyOf": [{"type": "string"}, {"type": "number"}]})",
             R"({"properties": {"a": {"format": "date"}}})",
             R"({"properties": {"a": {"format": 7}}})",
             R"({"properties": {"a": true}})",
             R"({"additionalProperties": {"type": "string"}})",
             R"({"items": [{"type": "string"}]})",
             R"({"enum": ["home", 1]})",
             R"({"type": "text"})",
             R"({"type": []})",
             R"({"required": "full_name"})",
             R"({"definitions": [], "type": "object"})",
             R"({"properties": {"a": {"$ref": "#/definitions/a", "type": "string"}}, "definitions": {"a": {}}})",
             R"({"properties": {"a": {"$ref": "#/definitions/missing"}}})",
             R"({"properties": {"a": {"$ref": "other.json#/a"}}})",
             R"({"properties": {"a": {"$ref": "#/definitions/a%20b"}}, "definitions": {"a b": {}}})",
             R"({"properties": {"a": {"$ref": "#definitions"}}})",
             R"({"properties": {"a": {"$ref": "#/definitions/b"}}, "definitions": {"b": {"$ref": "#/properties/a"}}})",
             R"(true)",
         }) {
        EXPECT_FALSE(compiles(nlohmann::json::parse(text))) << text;
    }
}

TEST(SchemaPrecheck, AnnotationsAndTheFormatsItPassesCompile)
{
    EXPECT_TRUE(compiles(nlohmann::json::parse(R"({"$schema": "http://json-schema.org/draft-07/schema#", "$id": "x",
        "title": "t", "description": "d", "$comment": "c", "default": {}, "examples": [],
        "properties": {"e": {"type": "string", "format": "email"}}})")));
}

/// The precheck's answer and the full validator's for one document, from JSON text.
struct Answers {
    bool precheck;
    bool valid;
};

Answers answers(const std::string& schema_text, const std::string& document_text)
{
    const auto precheck = SchemaPrecheck::compile(nlohmann::json::parse(schema_text));
    EXPECT_TRUE(precheck.has_value()) << schema_text;
    const SchemaValidator validator(schema_text, SchemaValidator::Precheck::off);
    const auto document = parse_json_body(document_text);
    return {precheck && precheck->passes(document), validator.validate(document).empty()};
}

TEST(SchemaPrecheck, ARecursiveSchemaIsALoopInTheTree)
{
    const std::string tree = R"({"type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}})";
    for (const auto* document : {R"({"name": "a"})", R"({"name": "a", "children": [{"name": "b", "children": []}]})"}) {
        const auto [precheck, valid] = answers(tree, document);
        EXPECT_TRUE(precheck) << document;
        EXPECT_TRUE(valid) << document;
    }
    for (const auto* document :
         {R"({"name": "a", "children": [{"name": 1}]})", R"({"name": "a", "children": [{"children": []}]})",
          R"({"name": "a", "children": [{"name": "b", "extra": 0}]})", R"([])"}) {
        const auto [precheck, valid] = answers(tree, document);
        EXPECT_FALSE(precheck) << document;
        EXPECT_FALSE(valid) << document;
    }
}

TEST(SchemaPrecheck, AnswersAsTheFullValidatorDoes)
{
    const std::string schema = R"({"definitions": {"kind": {"type": "string", "enum": ["home", "work"]}},
        "type": "object", "required": ["n"],
        "properties": {"n": {"type": "number"}, "i": {"type": "integer"}, "s": {"type": ["string", "null"]},
                       "k": {"$ref": "#/definitions/kind"}, "b": {"type": "boolean"},
                       "o": {"type": "object", "properties": {"x~/y": {"type": "string"}}, "additionalProperties": false},
                       "a": {"type": "array", "items": {"type": "number"}}, "free": {}}})";
    for (const auto* document : {
             R"({"n": 1})",
             R"({"n": -1.5})",
             R"({"n": 123456789012345678901234567890})",
             R"({"n": 18446744073709551615, "i": 123456789012345678901234567890})",
             R"({"n": 1, "s": null, "k": "work", "b": false, "a": [1, 2.5], "free": [{}]})",
             R"({"n": 1, "o": {"x~/y": "z"}, "extra": "allowed: additionalProperties is not false here"})",
         }) {
        const auto [precheck, valid] = answers(schema, document);
        EXPECT_TRUE(precheck) << document;
        EXPECT_TRUE(valid) << document;
    }
    for (const auto* document : {
             R"({})",
             R"({"n": "1"})",
             R"({"n": 1, "s": 1})",
             R"({"n": 1, "k": "holiday"})",
             R"({"n": 1, "k": 7})",
             R"({"n": 1, "b": 0})",
             R"({"n": 1, "o": {"x": "z"}})",
             R"({"n": 1, "a": [1, "2"]})",
             R"({"n": 1, "a": {}})",
             R"([{"n": 1}])",
         }) {
        const auto [precheck, valid] = answers(schema, document);
        EXPECT_FALSE(precheck) << document;
        EXPECT_FALSE(valid) << document;
    }
}

TEST(SchemaPrecheck, NamesThatAgreeInLengthAndInTheirFirstMiddleAndLastBytesAreToldApart)
{
    // The names are found by their length and three of their bytes first: these twelve agree in all four
    // (and "" has none), so only comparing the whole name tells them apart.
    nlohmann::json properties = nlohmann::json::object();
    nlohmann::json document = nlohmann::json::object();
    for (char c = 'a'; c < 'm'; ++c) {
        const std::string name = std::string("q") + c + "zz" + c + "zq";  // the middle byte is 'z'
        properties[name] = {{"type", "integer"}};
        document[name] = c;
    }
    properties[""] = {{"type", "string"}};
    const nlohmann::json schema = {
        {"type", "object"}, {"additionalProperties", false}, {"properties", properties}, {"required", {"qlzzlzq"}}};
    const auto fits = [&](const nlohmann::json& candidate) {
        const auto [precheck, valid] = answers(schema.dump(), candidate.dump());
        EXPECT_EQ(precheck, valid) << candidate;
        return precheck;
    };
    EXPECT_TRUE(fits(document));
    document[""] = "empty";
    EXPECT_TRUE(fits(document));
    auto wrong_type = document;
    wrong_type["qfzzfzq"] = "six";
    EXPECT_FALSE(fits(wrong_type));
    auto unknown = document;
    unknown["qmzzmzq"] = 1;  // the same length and bytes where it is looked up, but no property
    EXPECT_FALSE(fits(unknown));
    auto missing = document;
    missing.erase("qlzzlzq");
    EXPECT_FALSE(fits(missing));
}

TEST(SchemaPrecheck, RequiredNamesAreCountedOnceWhateverTheSchemaSaysOfThem)
{
    // Named twice; one without a property of its own (any value); one whose property is optional.
    const std::string open = R"({"type": "object", "required": ["a", "b", "a"],
        "properties": {"a": {"type": "string"}, "c": {"type": "number"}}})";
    for (const auto* document : {R"({"a": "x", "b": 1})", R"({"b": [], "a": "x", "c": 2})"}) {
        const auto [precheck, valid] = answers(open, document);
        EXPECT_TRUE(precheck) << document;
        EXPECT_TRUE(valid) << document;
    }
    for (const auto* document : {R"({"a": "x"})", R"({"b": 1, "c": 2})", R"({"a": 1, "b": 1})", R"({})"}) {
        const auto [precheck, valid] = answers(open, document);
        EXPECT_FALSE(precheck) << document;
        EXPECT_FALSE(valid) << document;
    }
}

TEST(SchemaPrecheck, ARequiredNameNoPropertyAllowsIsLeftToTheFullValidator)
{
    // No document passes: one without b misses it, one with b has a name additionalProperties forbids.
    const auto schema = nlohmann::json::parse(R"({"type": "object", "required": ["b"],
        "properties": {"a": {}}, "additionalProperties": false})");
    EXPECT_FALSE(compiles(schema));
    const SchemaValidator validator(schema.dump(), SchemaValidator::Precheck::off);
    for (const auto* document : {R"({"a": 1})", R"({"a": 1, "b": 2})"}) {
        EXPECT_FALSE(validator.validate(parse_json_body(document)).empty()) << document;
    }
}

TEST(SchemaPrecheck, ADoubleWhereAnIntegerIsAskedForGoesToTheFullValidator)
{
    // Whether 2.0 is an integer is the full validator's to say; the precheck only never says yes wrongly.
    const auto [precheck, valid] = answers(R"({"properties": {"i": {"type": "integer"}}})", R"({"i": 2.5})");
    EXPECT_FALSE(precheck);
    EXPECT_FALSE(valid);
}

TEST(SchemaPrecheck, EverySamplePasses)
{
    const auto precheck = SchemaPrecheck::compile(nlohmann::json::parse(embedded_schema_text()));
    ASSERT_TRUE(precheck.has_value());
    for (const auto& file : testing::sample_files()) {
        EXPECT_TRUE(precheck->passes(parse_json_body(testing::read_file(file)))) << file;
    }
}

}  // namespace
}  // namespace addrservice
