#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace addrservice::http {

/// The gzip (RFC 1952) encoding of data.
std::string gzip_compress(std::string_view data);

class GzipError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Inflates a gzip stream. Returns nullopt when the inflated size would exceed max_size; throws
/// GzipError when the data is not a valid gzip stream.
std::optional<std::string> gzip_decompress(std::string_view data, std::size_t max_size);

}  // namespace addrservice::http
