#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace addrservice {

/// The patch documents PATCH accepts.
enum class PatchFormat {
    merge_patch,  // application/merge-patch+json (RFC 7396)
    json_patch,   // application/json-patch+json (RFC 6902)
};

/// A patch document, read and checked once, to apply to an entry (again, if the entry changed meanwhile).
class Patch {
public:
    /// Reads a patch document. Throws InvalidJsonError when it is not JSON (or not UTF-8, or nested
    /// deeper than max_json_depth), or not a document of its format (a JSON Patch that is not an array
    /// of well-formed operations).
    Patch(PatchFormat format, std::string_view text);

    /// Applies the patch to an entry's JSON text and returns the patched JSON text, for the caller to
    /// validate and make canonical. Numbers the patch leaves alone come back exactly as they were
    /// written, integers too large for 64 bits included. Throws PatchConflictError when a JSON Patch
    /// operation cannot apply (a test that fails, a path that does not exist); InvalidJsonError when the
    /// entry would be nested deeper than max_json_depth; EntryTooLargeError when it would grow past
    /// max_bytes.
    [[nodiscard]] std::string apply(std::string_view entry_json, std::size_t max_bytes) const;

private:
    PatchFormat format_;
    nlohmann::json changes_;
};

}  // namespace addrservice
