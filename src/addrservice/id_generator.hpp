#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace addrservice {

/// Makes the ids of new entries: 32 lower-case hex digits, ordered by time, so that every store adds a new
/// id at the end of its id order (a B-tree's last page, an ordered index's last node) rather than at a
/// random place in it. The layout is RFC 9562's UUIDv7 with its version and variant bits left random:
///   12 digits  milliseconds since 1970-01-01 UTC when the id was made
///    4 digits  a counter that starts below 0x8000 at a random value in each millisecond
///   16 digits  64 random bits from OpenSSL's generator, so that no id can be guessed from others
/// The ids one generator makes strictly increase, also when the clock steps back.
class IdGenerator {
public:
    /// The next id, at the system clock's time.
    std::string next();
    /// The next id, at unix_ms (milliseconds since 1970-01-01 UTC).
    std::string next(std::uint64_t unix_ms);

private:
    std::uint64_t random_bits();

    // Random bytes drawn ahead, a multiple of 8. (Made in the process that uses them: a service is built
    // after its worker process forks, so no two processes share them.)
    std::array<unsigned char, 1024> random_pool_{};
    std::size_t random_used_ = random_pool_.size();
    std::uint64_t millisecond_ = 0;
    std::uint32_t counter_ = 0;
};

}  // namespace addrservice
