#include "server/openapi.hpp"
#include "addrservice/json_text.hpp"
#include "addrservice/schema.hpp"
#include "server/app.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace addrservice::http {
namespace {

using nlohmann::json;

std::string read_source(const std::string& relative)
{
    std::ifstream in(std::string(ADDRSERVICE_SOURCE_DIR) + "/" + relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A plain YAML scalar as JSON would have it: numbers, booleans and null by their YAML 1.2 core form;
/// a quoted scalar is always a string.
json scalar_to_json(const YAML::Node& node)
{
    const auto& text = node.Scalar();
    if (node.Tag() == "!") {
        return text;
    }
    if (text == "true" || text == "false") {
        return text == "true";
    }
    if (text == "null" || text == "~") {
        return nullptr;
    }
    std::int64_t integer = 0;
    if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
        ec == std::errc() && end == text.data() + text.size()) {
        return integer;
    }
    double number = 0;
    if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        ec == std::errc() && end == text.data() + text.size() && !text.empty() &&
        (std::isdigit(static_cast<unsigned char>(text.front())) != 0 || text.front() == '-')) {
        return number;
    }
    return text;
}

json to_json(const YAML::Node& node)
{
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            json out = json::object();
            for (const auto& item : node) {
                out[item.first.Scalar()] = to_json(item.second);
            }
            return out;
        }
        case YAML::NodeType::Sequence: {
            json out = json::array();
            for (const auto& item : node) {
                out.push_back(to_json(item));
            }
            return out;
        }
        case YAML::NodeType::Scalar:
            return scalar_to_json(node);
        default:
            return nullptr;
    }
}

json spec()
{
    return to_json(YAML::Load(read_source("docs/openapi.yaml")));
}

/// The JSON Schema file in OpenAPI 3.0's dialect: definitions become components/schemas, a list of
/// types becomes oneOf, the draft's $schema and $id go.
json as_openapi_schema(json schema)
{
    if (schema.is_object()) {
        schema.erase("$schema");
        schema.erase("$id");
        if (schema.contains("$ref")) {
            const std::string ref = schema["$ref"];
            schema["$ref"] = "#/components/schemas/" + ref.substr(ref.rfind('/') + 1);
        }
        if (schema.contains("type") && schema["type"].is_array()) {
            json one_of = json::array();
            for (const auto& type : schema["type"]) {
                one_of.push_back({{"type", type}});
            }
            schema.erase("type");
            schema["oneOf"] = one_of;
        }
        for (auto& [key, value] : schema.items()) {
            value = as_openapi_schema(value);
        }
    } else if (schema.is_array()) {
        for (auto& value : schema) {
            value = as_openapi_schema(value);
        }
    }
    return schema;
}

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

TEST(OpenApi, TheServedTextIsDocsOpenapiYaml)
{
    EXPECT_EQ(embedded_openapi_text(), read_source("docs/openapi.yaml"));
    EXPECT_EQ(spec()["openapi"].get<std::string>().substr(0, 4), "3.0.");
}

/// A path's key in a JSON pointer: '/' escaped as "~1" (and '~' as "~0").
std::string pointer_token(std::string_view path)
{
    std::string token;
    for (const char c : path) {
        token += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    }
    return token;
}

TEST(OpenApi, EveryRouteIsDescribedAndEveryDescribedOperationIsRouted)
{
    const auto paths = spec()["paths"];
    std::set<std::string> routed;
    for (const auto& route : App::routes()) {
        const auto method = lower(boost::beast::http::to_string(route.method));
        const std::string path(route.path);
        routed.insert(method + " " + path);
        EXPECT_TRUE(paths.contains(path) && paths[path].contains(method))
            << method << " " << path << " is routed but not in docs/openapi.yaml";
        if (method == "get") {
            // HEAD is answered wherever GET is.
            routed.insert("head " + path);
            EXPECT_TRUE(paths.contains(path) && paths[path].contains("head")) << "head " << path << " is not described";
        }
        // The trailing-slash twin of every path is the same path item.
        EXPECT_EQ(paths[path + "/"], (json{{"$ref", "#/paths/" + pointer_token(path)}})) << path << "/";
    }
    for (const auto& [path, operations] : paths.items()) {
        if (operations.contains("$ref")) {
            continue;  // a trailing-slash twin, checked above
        }
        for (const auto& [method, operation] : operations.items()) {
            if (method == "parameters") {
                continue;
            }
            EXPECT_TRUE(routed.contains(method + " " + path)) << method << " " << path << " is described, not routed";
        }
    }
}

TEST(OpenApi, EveryStatusTheServiceAnswersIsDescribed)
{
    const auto paths = spec()["paths"];
    const auto statuses = [&paths](const std::string& path, const std::string& method) {
        std::set<std::string> codes;
        for (const auto& [code, response] : paths[path][method]["responses"].items()) {
            codes.insert(code);
        }
        return codes;
    };
    using Codes = std::set<std::string>;
    // 401 and 403 are auth:'s (TheBearerSchemeAndItsRefusalsAreDescribed).
    EXPECT_EQ(statuses("/addresses", "get"), (Codes{"200", "304", "400", "401"}));
    EXPECT_EQ(statuses("/addresses", "post"), (Codes{"201", "400", "401", "403", "413"}));
    EXPECT_EQ(statuses("/addresses/{id}", "get"), (Codes{"200", "304", "401", "404"}));
    EXPECT_EQ(statuses("/addresses/{id}", "put"), (Codes{"201", "204", "400", "401", "403", "404", "412", "413"}));
    EXPECT_EQ(statuses("/addresses/{id}", "patch"),
              (Codes{"204", "400", "401", "403", "404", "409", "412", "413", "415"}));
    EXPECT_EQ(statuses("/addresses/{id}", "delete"), (Codes{"204", "401", "403", "404", "412"}));
    const auto responses = spec()["components"]["responses"];
    EXPECT_TRUE(responses["MethodNotAllowed"]["headers"].contains("Allow"));
    EXPECT_EQ(responses["UnknownEndpoint"]["content"]["application/json"]["example"]["message"], "Unknown Endpoint");
    EXPECT_TRUE(responses["UnsupportedMediaType"]["headers"].contains("Accept-Patch"));
    EXPECT_TRUE(responses["PreconditionFailed"]["headers"].contains("ETag"));
    // A POST or PUT body is read as JSON whatever its Content-Type.
    EXPECT_TRUE(paths["/addresses"]["post"]["requestBody"]["content"].contains("*/*"));
    EXPECT_TRUE(paths["/addresses/{id}"]["put"]["requestBody"]["content"].contains("*/*"));
}

TEST(OpenApi, TheEntrySchemaIsTheSchemaFile)
{
    const auto schemas = spec()["components"]["schemas"];
    auto expected = as_openapi_schema(json::parse(read_source("schema/address-book-v1.0.json")));
    const auto definitions = expected["definitions"];
    expected.erase("definitions");
    EXPECT_EQ(schemas["AddressBookEntry"], expected);
    for (const auto& [name, definition] : definitions.items()) {
        EXPECT_EQ(schemas[name], definition) << name;
    }
}

TEST(OpenApi, EveryEntryExamplePassesTheSchema)
{
    const auto paths = spec()["paths"];
    const auto json_content = [](const json& holder) { return holder["content"]["application/json"]; };
    std::vector<json> examples;
    const auto post_examples = json_content(paths["/addresses"]["post"]["requestBody"])["examples"];
    for (const auto& [name, example] : post_examples.items()) {
        examples.push_back(example["value"]);
    }
    examples.push_back(json_content(paths["/addresses/{id}"]["put"]["requestBody"])["example"]);
    examples.push_back(json_content(paths["/addresses/{id}"]["get"]["responses"]["200"])["example"]);
    const auto list_example = json_content(paths["/addresses"]["get"]["responses"]["200"])["example"];
    for (const auto& [id, entry] : list_example.items()) {
        examples.push_back(entry);
    }
    ASSERT_EQ(examples.size(), 5U);
    const SchemaValidator validator;
    for (const auto& example : examples) {
        EXPECT_TRUE(validator.validate(parse_json_body(example.dump())).empty()) << example.dump();
    }
    // And the checks can fail: an example with a kind the schema does not allow.
    auto wrong = examples.front();
    wrong["addresses"][0]["kind"] = "holiday";
    EXPECT_FALSE(validator.validate(parse_json_body(wrong.dump())).empty());
}

TEST(OpenApi, TheBearerSchemeAndItsRefusalsAreDescribed)
{
    const auto description = spec();
    const auto& scheme = description["components"]["securitySchemes"]["bearerAuth"];
    EXPECT_EQ(scheme["type"], "http");
    EXPECT_EQ(scheme["scheme"], "bearer");
    EXPECT_EQ(description["security"], json::parse(R"([{"bearerAuth": []}])"));
    const AuthConfig defaults;
    for (const auto& route : App::routes()) {
        const auto method = lower(boost::beast::http::to_string(route.method));
        const auto& operation = description["paths"][std::string(route.path)][method];
        const auto& responses = operation["responses"];
        const bool open = std::find(defaults.open.begin(), defaults.open.end(), route.path) != defaults.open.end();
        EXPECT_EQ(operation.contains("security"), open) << method << " " << route.path;
        EXPECT_EQ(responses.contains("401"), !open) << method << " " << route.path;
        EXPECT_EQ(responses.contains("403"), needs_write_scope(route.method)) << method << " " << route.path;
    }
}

}  // namespace
}  // namespace addrservice::http
