#include "server/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>

namespace addrservice::http {

namespace {

constexpr int gzip_window_bits = 15 + 16;  // 15-bit window, gzip header and trailer
constexpr int memory_level = 8;

/// zlib's API is C; these keep its casts in one place.
// zlib never writes through next_in; its API is simply not const.
Bytef* in_ptr(std::string_view data)
{
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast,cppcoreguidelines-pro-type-const-cast)
    return reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
}
Bytef* out_ptr(char* data)
{
    return reinterpret_cast<Bytef*>(data);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

}  // namespace

std::string gzip_compress(std::string_view data)
{
    z_stream stream{};
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits, memory_level, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        throw GzipError("deflateInit2 failed");
    }
    std::string out;
    out.resize(deflateBound(&stream, data.size()));
    // zlib counts in 32 bits: data and output are handed over in parts of at most that much.
    constexpr std::size_t largest_part = std::numeric_limits<uInt>::max();
    std::size_t consumed = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
        const auto input = std::min(data.size() - consumed, largest_part);
        const std::size_t written = stream.total_out;
        stream.next_in = in_ptr(data.substr(consumed, input));
        stream.avail_in = static_cast<uInt>(input);
        stream.next_out = out_ptr(out.data() + written);
        stream.avail_out = static_cast<uInt>(std::min(out.size() - written, largest_part));
        rc = deflate(&stream, consumed + input == data.size() ? Z_FINISH : Z_NO_FLUSH);
        consumed += input - stream.avail_in;
    }
    const auto produced = stream.total_out;
    deflateEnd(&stream);
    if (rc != Z_STREAM_END) {
        throw GzipError("deflate failed");
    }
    out.resize(produced);
    return out;
}

std::optional<std::string> gzip_decompress(std::string_view data, std::size_t max_size)
{
    if (data.size() > std::numeric_limits<uInt>::max()) {
        return std::nullopt;
    }
    z_stream stream{};
    if (inflateInit2(&stream, gzip_window_bits) != Z_OK) {
        throw GzipError("inflateInit2 failed");
    }
    stream.next_in = in_ptr(data);
    stream.avail_in = static_cast<uInt>(data.size());
    std::string out;
    std::array<char, 16384> chunk{};
    int rc = Z_OK;
    for (;;) {
        if (rc == Z_STREAM_END) {
            if (stream.avail_in == 0) {
                break;
            }
            // RFC 1952: a gzip stream may hold several members, one after another (as `cat a.gz b.gz`
            // makes); their contents follow one another. What follows must be a member: anything else fails.
            if (inflateReset(&stream) != Z_OK) {
                inflateEnd(&stream);
                throw GzipError("inflateReset failed");
            }
        }
        stream.next_out = out_ptr(chunk.data());
        stream.avail_out = static_cast<uInt>(chunk.size());
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&stream);
            throw GzipError(stream.msg != nullptr ? stream.msg : "invalid gzip data");
        }
        const auto produced = chunk.size() - stream.avail_out;
        if (out.size() + produced > max_size) {
            inflateEnd(&stream);
            return std::nullopt;
        }
        out.append(chunk.data(), produced);
        if (rc == Z_OK && produced == 0 && stream.avail_in == 0) {
            inflateEnd(&stream);
            throw GzipError("truncated gzip data");
        }
    }
    inflateEnd(&stream);
    return out;
}

}  // namespace addrservice::http
