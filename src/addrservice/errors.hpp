#pragma once

#include "addrservice/store/store.hpp"  // StoreError: a store's failure, a server fault

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice {

// The service layer's typed errors. The HTTP layer maps each to a status code in one place (app.cpp).

/// The request body is not JSON, not UTF-8, or nested too deeply.
class InvalidJsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One schema violation: where (a JSON pointer) and what.
struct Violation {
    std::string pointer;
    std::string message;

    bool operator==(const Violation&) const = default;
};

/// The body is JSON but does not satisfy the entry schema.
class SchemaValidationError : public std::runtime_error {
public:
    explicit SchemaValidationError(std::vector<Violation> violations)
        : std::runtime_error("JSON Schema validation failed"), violations_(std::move(violations))
    {
    }

    [[nodiscard]] const std::vector<Violation>& violations() const noexcept { return violations_; }

private:
    std::vector<Violation> violations_;
};

/// No entry has the requested id. The message echoes at most max_echoed_id characters of it (then "..."),
/// so that an id as long as a request line allows makes no status line of that length.
class NotFoundError : public std::runtime_error {
public:
    static constexpr std::size_t max_echoed_id = 64;

    explicit NotFoundError(std::string id) : std::runtime_error(message_for(id)), id_(std::move(id)) {}

    [[nodiscard]] const std::string& id() const noexcept { return id_; }

private:
    static std::string message_for(std::string_view id)
    {
        const auto echoed =
            id.size() > max_echoed_id ? std::string(id.substr(0, max_echoed_id)) + "..." : std::string(id);
        return "Address " + echoed + " not found";
    }

    std::string id_;
};

/// A conditional request's precondition (If-Match, If-None-Match: *) does not hold; nothing changed.
class PreconditionFailedError : public std::runtime_error {
public:
    explicit PreconditionFailedError(std::string current_etag)
        : std::runtime_error("Precondition Failed"), current_etag_(std::move(current_etag))
    {
    }

    /// The ETag of the entry as it is stored.
    [[nodiscard]] const std::string& current_etag() const noexcept { return current_etag_; }

private:
    std::string current_etag_;
};

/// A patch cannot apply to the entry as it is (a JSON Patch test that fails, a path that is missing).
class PatchConflictError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An entry made by the service (a patched one) would be larger than an entry may be.
class EntryTooLargeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace addrservice
