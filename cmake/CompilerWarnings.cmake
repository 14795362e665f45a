# An INTERFACE target carrying the project's warning flags; link it PRIVATE to our own targets only.
# Third-party headers come in as SYSTEM include directories (imported targets, valijson_headers), so
# their warnings are not ours.
add_library(addrservice_warnings INTERFACE)
target_compile_options(addrservice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Woverloaded-virtual -Wimplicit-fallthrough -Wnull-dereference -Wformat=2 -Wsuggest-override
  # g++ only: clang has no such warning, and an unknown -W option is itself a warning there.
  $<$<CXX_COMPILER_ID:GNU>:-Wuseless-cast>
  # g++ 12 at -O2 reports these inside inlined library code (Asio's allocator, std::string::replace), not ours.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<NOT:$<CONFIG:Debug>>>:-Wno-mismatched-new-delete -Wno-restrict>)
if(ADDRSERVICE_WARNINGS_AS_ERRORS)
  target_compile_options(addrservice_warnings INTERFACE -Werror)
endif()
