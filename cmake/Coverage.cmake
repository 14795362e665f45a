# ADDRSERVICE_COVERAGE=ON builds with gcov instrumentation for gcovr.
option(ADDRSERVICE_COVERAGE "Build with coverage instrumentation" OFF)
if(ADDRSERVICE_COVERAGE)
  add_compile_options(--coverage -O0 -fno-inline)
  add_link_options(--coverage)
endif()
