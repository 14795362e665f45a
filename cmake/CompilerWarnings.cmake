# An INTERFACE target carrying the project's warning flags; link it PRIVATE to our own targets only.
add_library(addrservice_warnings INTERFACE)
target_compile_options(addrservice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(ADDRSERVICE_WARNINGS_AS_ERRORS)
  target_compile_options(addrservice_warnings INTERFACE -Werror)
endif()
