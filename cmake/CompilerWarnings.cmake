# An INTERFACE target carrying the project's warning flags; link it PRIVATE to our own targets only.
add_library(addrservice_warnings INTERFACE)
target_compile_options(addrservice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Woverloaded-virtual -Wimplicit-fallthrough
  # g++ 12 at -O2 reports these inside inlined library code (Asio's allocator, std::string::replace), not ours.
  $<$<NOT:$<CONFIG:Debug>>:-Wno-mismatched-new-delete -Wno-restrict>)
if(ADDRSERVICE_WARNINGS_AS_ERRORS)
  target_compile_options(addrservice_warnings INTERFACE -Werror)
endif()
