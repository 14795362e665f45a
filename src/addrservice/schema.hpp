#pragma once

#include "addrservice/errors.hpp"

#include <memory>
#include <string_view>
#include <vector>

namespace boost::json {
class value;
}  // namespace boost::json

namespace addrservice {

/// The entry schema (schema/address-book-v1.0.json), embedded in the binary at build time.
std::string_view embedded_schema_text() noexcept;

/// A JSON Schema (draft-07) parsed once and applied to many documents.
class SchemaValidator {
public:
    /// Whether a document goes first to a precheck (SchemaPrecheck) and to valijson only when it may be
    /// invalid, or always to valijson. The answers are the same; the precheck is several times faster.
    enum class Precheck : bool { off, on };

    /// Throws std::invalid_argument when the schema text is not a usable schema.
    explicit SchemaValidator(std::string_view schema_text = embedded_schema_text(), Precheck precheck = Precheck::on);
    ~SchemaValidator();
    SchemaValidator(const SchemaValidator&) = delete;
    SchemaValidator& operator=(const SchemaValidator&) = delete;
    SchemaValidator(SchemaValidator&& other) noexcept;
    SchemaValidator& operator=(SchemaValidator&& other) noexcept;

    /// Every violation of the schema by the document, in document order; empty when it is valid.
    [[nodiscard]] std::vector<Violation> validate(const boost::json::value& document) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// True when text looks like an email address: one '@', a non-empty local part, a dotted domain, no spaces.
bool is_plausible_email(std::string_view text) noexcept;

}  // namespace addrservice
