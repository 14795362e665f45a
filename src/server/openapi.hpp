#pragma once

#include <string_view>

namespace addrservice::http {

/// docs/openapi.yaml, embedded at build time and served at GET /openapi.yaml.
std::string_view embedded_openapi_text() noexcept;

}  // namespace addrservice::http
