#include "addrservice/id_generator.hpp"

#include "addrservice/hex.hpp"

#include <chrono>

namespace addrservice {

namespace {

constexpr std::uint64_t max_millisecond = (std::uint64_t{1} << 48U) - 1;  // 12 hex digits: until the year 10889
constexpr std::uint32_t max_counter = 0xFFFFU;
// A millisecond's first counter is below half the range, so at least 32,768 ids fit in each.
constexpr std::uint32_t first_counter_mask = 0x7FFFU;

void append_hex(std::string& out, std::uint64_t value, int digits)
{
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += hex_digit(value >> static_cast<unsigned>(shift));
    }
}

std::mt19937_64 seeded_from_device()
{
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
}

}  // namespace

IdGenerator::IdGenerator() : random_(seeded_from_device()) {}

IdGenerator::IdGenerator(std::uint64_t seed) : random_(seed) {}

std::string IdGenerator::next()
{
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return next(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
}

std::string IdGenerator::next(std::uint64_t unix_ms)
{
    unix_ms &= max_millisecond;
    if (unix_ms > millisecond_) {
        millisecond_ = unix_ms;
        counter_ = static_cast<std::uint32_t>(random_()) & first_counter_mask;
    } else if (counter_ < max_counter) {
        ++counter_;  // the same millisecond, or the clock stepped back: still after the last id
    } else {
        ++millisecond_;  // this millisecond is full: borrow the next one
        counter_ = static_cast<std::uint32_t>(random_()) & first_counter_mask;
    }
    std::string id;
    id.reserve(32);
    append_hex(id, millisecond_, 12);
    append_hex(id, counter_, 4);
    append_hex(id, random_(), 16);
    return id;
}

}  // namespace addrservice
