# ADDRSERVICE_SANITIZE=address,undefined (or thread) instruments every target of the build.
if(ADDRSERVICE_SANITIZE)
  add_compile_options(-fsanitize=${ADDRSERVICE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ADDRSERVICE_SANITIZE})
  if(ADDRSERVICE_SANITIZE MATCHES "thread")
    # ThreadSanitizer does not model atomic_thread_fence (g++ warns: -Wtsan). Asio's fenced blocks only
    # order what the mutexes of its scheduler already order, so a TSan build goes without them.
    add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
  endif()
endif()

# ADDRSERVICE_FUZZ=ON builds the libFuzzer targets of fuzz/ (clang only): every target is instrumented for
# coverage-guided fuzzing with AddressSanitizer and UBSan; the fuzzers themselves add libFuzzer's main.
option(ADDRSERVICE_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(ADDRSERVICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ADDRSERVICE_FUZZ needs clang (the fuzz preset uses clang++-16)")
  endif()
  if(ADDRSERVICE_SANITIZE)
    message(FATAL_ERROR "ADDRSERVICE_FUZZ brings its own sanitizers; leave ADDRSERVICE_SANITIZE empty")
  endif()
  set(ADDRSERVICE_FUZZ_SANITIZERS address,undefined)
  add_compile_options(-fsanitize=fuzzer-no-link,${ADDRSERVICE_FUZZ_SANITIZERS} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ADDRSERVICE_FUZZ_SANITIZERS})
endif()
