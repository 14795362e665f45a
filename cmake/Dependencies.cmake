# Every dependency comes from a Debian 12 package (tools/debian-packages.txt); nothing is fetched.
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(SQLite3 REQUIRED)
# The /metrics registry and its text format; only the core library, not its HTTP server.
find_package(prometheus-cpp REQUIRED CONFIG)  # Debian installs no version file
find_package(PostgreSQL REQUIRED)  # libpq (libpq-dev)
find_package(OpenSSL REQUIRED)     # HTTPS (Asio and Beast over OpenSSL); libpq's TLS layer; SHA-256 of bearer tokens (libssl-dev)

# valijson is header-only; `tools/run.py setup` unpacks Debian's package into .deps/ (its -dev package
# drags in Qt and Poco for adapters we never use). A system-wide install is accepted too.
find_path(VALIJSON_INCLUDE_DIR valijson/validator.hpp
  HINTS "${PROJECT_SOURCE_DIR}/.deps/valijson/usr/include"
  REQUIRED)
add_library(valijson_headers INTERFACE)
target_include_directories(valijson_headers SYSTEM INTERFACE "${VALIJSON_INCLUDE_DIR}")
# Without it valijson prints and calls abort() where it means to throw: one bad schema or value would end
# the process.
target_compile_definitions(valijson_headers INTERFACE VALIJSON_USE_EXCEPTIONS=1)

# jemalloc (libjemalloc-dev) serves the binary's allocations: parsing and validating a JSON body makes
# many small ones, and it answered POST ~35 % faster than glibc's malloc (tools/run.py bench). Sanitizer
# and fuzz builds keep the sanitizer's own allocator.
if(NOT ADDRSERVICE_SANITIZE AND NOT ADDRSERVICE_FUZZ)
  find_library(JEMALLOC_LIBRARY jemalloc REQUIRED)
endif()

if(ADDRSERVICE_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  # Property tests: librapidcheck-dev, a static library with its CMake package and a GoogleTest header.
  find_package(rapidcheck REQUIRED)
endif()
