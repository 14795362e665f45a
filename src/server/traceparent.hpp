#pragma once

#include <optional>
#include <string_view>

namespace addrservice::http {

/// The trace id of a W3C Trace Context `traceparent` header of version 00
/// ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>", lowercase hex, neither id all zeros);
/// nullopt when the value is anything else.
std::optional<std::string_view> trace_id_of(std::string_view traceparent) noexcept;

}  // namespace addrservice::http
