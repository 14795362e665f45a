#include "checks.hpp"

#include "addrservice/address_service.hpp"
#include "addrservice/errors.hpp"
#include "addrservice/json_text.hpp"
#include "addrservice/schema.hpp"
#include "addrservice/store/memory_store.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <typeinfo>

namespace addrservice::fuzz {

namespace {

/// The service whose normalise() is checked; it only reads its schema, so one serves every input.
const AddressService& service()
{
    static const AddressService instance(std::make_shared<MemoryStore>());
    return instance;
}

[[noreturn]] void fail(const std::string& what, std::string_view body)
{
    throw Finding("body: " + what + "\n  body: " + std::string(body.substr(0, 2000)));
}

/// The body parsed as the service parses it; a body it refused as invalid JSON must not get here.
boost::json::value parse(std::string_view text, std::string_view body, const char* which)
{
    try {
        return parse_json_body(text);
    } catch (const std::exception& e) {
        fail(std::string(which) + " does not parse: " + e.what(), body);
    }
}

/// Every violation names a place that exists in the document (an offending value, or the object
/// that lacks a property) and says what is wrong there.
void check_violations(const SchemaValidationError& error, std::string_view body)
{
    if (error.violations().empty()) {
        fail("SchemaValidationError without violations", body);
    }
    const auto document = parse(body, body, "a body refused by the schema");
    for (const auto& violation : error.violations()) {
        boost::system::error_code ec;
        if (document.find_pointer(violation.pointer, ec) == nullptr) {
            fail("violation pointer '" + violation.pointer + "' (" + violation.message + ") names nothing in the body",
                 body);
        }
        if (violation.message.empty()) {
            fail("violation at '" + violation.pointer + "' without a message", body);
        }
    }
}

/// The schema's answer with the precheck in front of valijson is valijson's own answer.
void check_precheck(std::string_view body)
{
    static const SchemaValidator prechecked(embedded_schema_text(), SchemaValidator::Precheck::on);
    static const SchemaValidator unchecked(embedded_schema_text(), SchemaValidator::Precheck::off);
    boost::json::value document;
    try {
        document = parse_json_body(body);
    } catch (const InvalidJsonError&) {
        return;
    }
    if (prechecked.validate(document) != unchecked.validate(document)) {
        fail("the schema precheck changes the answer of the full validator", body);
    }
}

}  // namespace

void check_body(std::string_view body)
{
    check_precheck(body);
    std::string stored;
    try {
        stored = service().normalise(body);
    } catch (const InvalidJsonError&) {
        return;
    } catch (const SchemaValidationError& e) {
        check_violations(e, body);
        return;
    } catch (const std::exception& e) {
        fail(std::string("unexpected exception ") + typeid(e).name() + ": " + e.what(), body);
    } catch (...) {
        fail("unexpected exception of a type not derived from std::exception", body);
    }

    const auto original = parse(body, body, "a valid body");
    const auto reread = parse(stored, body, "the stored text");
    if (original != reread) {
        fail("the stored text reads back as another value\n  stored: " + stored +
                 "\n  read back: " + boost::json::serialize(reread),
             body);
    }
    std::string again;
    try {
        again = service().normalise(stored);
    } catch (const std::exception& e) {
        fail(std::string("the stored text is refused: ") + e.what() + "\n  stored: " + stored, body);
    }
    if (again != stored) {
        fail("normalising the stored text changes it\n  stored: " + stored + "\n  again:  " + again, body);
    }
}

}  // namespace addrservice::fuzz
