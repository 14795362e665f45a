#include "addrservice/id_generator.hpp"

#include "addrservice/hex.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <stdexcept>
#include <string>

namespace addrservice {

namespace {

constexpr std::uint64_t max_millisecond = (std::uint64_t{1} << 48U) - 1;  // 12 hex digits: until the year 10889
constexpr std::uint32_t max_counter = 0xFFFFU;
// A millisecond's first counter is below half the range, so at least 32,768 ids fit in each.
constexpr std::uint32_t first_counter_mask = 0x7FFFU;

}  // namespace

std::uint64_t IdGenerator::random_bits()
{
    if (random_used_ == random_pool_.size()) {
        // One call to OpenSSL's generator for many ids: a call per id cost 2 % of a POST.
        if (RAND_bytes(random_pool_.data(), static_cast<int>(random_pool_.size())) != 1) {
            throw std::runtime_error("no random bytes for a new id: " + std::to_string(ERR_get_error()));
        }
        random_used_ = 0;
    }
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < sizeof(bits); ++i) {
        bits = (bits << 8U) | random_pool_[random_used_ + i];
    }
    random_used_ += sizeof(bits);
    return bits;
}

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
        counter_ = static_cast<std::uint32_t>(random_bits()) & first_counter_mask;
    } else if (counter_ < max_counter) {
        ++counter_;  // the same millisecond, or the clock stepped back: still after the last id
    } else {
        ++millisecond_;  // this millisecond is full: borrow the next one
        counter_ = static_cast<std::uint32_t>(random_bits()) & first_counter_mask;
    }
    std::string id;
    id.reserve(32);
    append_hex(id, millisecond_, 12);
    append_hex(id, counter_, 4);
    append_hex(id, random_bits(), 16);
    return id;
}

}  // namespace addrservice
