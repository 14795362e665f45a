#include "server/traceparent.hpp"

#include <algorithm>

namespace addrservice::http {

namespace {

bool is_lower_hex(char c) noexcept
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/// size lowercase hex digits, not all zeros unless zero is allowed.
bool is_hex_field(std::string_view field, std::size_t size, bool zero_allowed) noexcept
{
    return field.size() == size && std::all_of(field.begin(), field.end(), is_lower_hex) &&
           (zero_allowed || field.find_first_not_of('0') != std::string_view::npos);
}

}  // namespace

std::optional<std::string_view> trace_id_of(std::string_view traceparent) noexcept
{
    // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 characters.
    constexpr std::size_t length = 55;
    if (traceparent.size() != length || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') {
        return std::nullopt;
    }
    const auto version = traceparent.substr(0, 2);
    const auto trace_id = traceparent.substr(3, 32);
    const auto parent_id = traceparent.substr(36, 16);
    const auto flags = traceparent.substr(53, 2);
    if (version != "00" || !is_hex_field(trace_id, 32, false) || !is_hex_field(parent_id, 16, false) ||
        !is_hex_field(flags, 2, true)) {
        return std::nullopt;
    }
    return trace_id;
}

}  // namespace addrservice::http
