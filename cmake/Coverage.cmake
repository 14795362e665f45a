# ADDRSERVICE_COVERAGE=ON builds with gcov instrumentation for gcovr: an INTERFACE target that our own
# targets link PRIVATE (the tests too, so that their link pulls in gcov's runtime).
option(ADDRSERVICE_COVERAGE "Build with coverage instrumentation" OFF)
add_library(addrservice_coverage INTERFACE)
if(ADDRSERVICE_COVERAGE)
  # Atomic counters: threads of one test (instances starting together, the store thread) run the same code
  # at once, and lost increments can leave a function's counts inconsistent, which gcov cannot read.
  target_compile_options(addrservice_coverage INTERFACE --coverage -fprofile-update=atomic -O0 -fno-inline)
  target_link_options(addrservice_coverage INTERFACE --coverage)
endif()
