#pragma once

#include "addrservice/address_service.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace addrservice::http {

/// An entity tag as a header gives it: the opaque tag with its quotes, and whether it is weak (W/).
struct EntityTag {
    std::string_view tag;
    bool weak = false;

    bool operator==(const EntityTag&) const = default;
};

/// The entity tags of an If-Match or If-None-Match value (RFC 9110 section 8.8.3: a comma-separated
/// list of [W/]"...", with optional whitespace); nullopt when the value is not such a list (or is "*").
std::optional<std::vector<EntityTag>> parse_entity_tags(std::string_view value);

/// What a PUT, PATCH or DELETE asks of the stored entry, from its If-Match and If-None-Match values
/// (nullopt when the request has no such header). If-Match: "*" asks only that the entry exists, which
/// every write on an entry asks anyway; otherwise the write needs one of its strong tags (strong
/// comparison: a weak tag, or a value that is no list of tags, matches nothing). If-None-Match: "*"
/// asks that there is no entry; other If-None-Match values do not apply to writes.
Precondition write_precondition(std::optional<std::string_view> if_match,
                                std::optional<std::string_view> if_none_match);

}  // namespace addrservice::http
