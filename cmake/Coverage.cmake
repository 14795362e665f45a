# ADDRSERVICE_COVERAGE=ON builds with gcov instrumentation for gcovr: an INTERFACE target that our own
# targets link PRIVATE (the tests too, so that their link pulls in gcov's runtime).
option(ADDRSERVICE_COVERAGE "Build with coverage instrumentation" OFF)
add_library(addrservice_coverage INTERFACE)
if(ADDRSERVICE_COVERAGE)
  target_compile_options(addrservice_coverage INTERFACE --coverage -O0 -fno-inline)
  target_link_options(addrservice_coverage INTERFACE --coverage)
endif()
