#pragma once

#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace addrservice::testing {

/// A self-signed certificate for 127.0.0.1 and its key, made by the openssl command in a directory of
/// their own (removed with them).
class SelfSignedCertificate {
public:
    /// common_name tells one certificate from another.
    explicit SelfSignedCertificate(const std::string& common_name);
    ~SelfSignedCertificate();
    SelfSignedCertificate(const SelfSignedCertificate&) = delete;
    SelfSignedCertificate& operator=(const SelfSignedCertificate&) = delete;
    SelfSignedCertificate(SelfSignedCertificate&&) = delete;
    SelfSignedCertificate& operator=(SelfSignedCertificate&&) = delete;

    [[nodiscard]] const std::filesystem::path& cert() const noexcept { return cert_; }
    [[nodiscard]] const std::filesystem::path& key() const noexcept { return key_; }
    [[nodiscard]] const std::filesystem::path& directory() const noexcept { return directory_; }

private:
    std::filesystem::path directory_;
    std::filesystem::path cert_;
    std::filesystem::path key_;
};

/// A blocking HTTPS/1.1 client over one keep-alive connection that trusts one certificate, for tests.
class TlsClient {
public:
    /// Connects and completes the handshake; throws when either fails. A max_version (TLS1_1_VERSION, ...)
    /// makes the client offer no later version, and lets it offer versions OpenSSL's default policy refuses.
    TlsClient(std::uint16_t port, const std::filesystem::path& trusted_cert, int max_version = 0);

    /// Sends a GET and reads its response.
    ClientResponse get(const std::string& target);
    /// Sends bytes as they are (encrypted), with no framing of their own.
    void write_raw(const std::string& bytes);
    /// Reads (decrypted) until the server closes the connection, for at most 10 s of silence.
    std::string read_until_close();
    /// The TCP socket under TLS (for its options).
    [[nodiscard]] boost::asio::ip::tcp::socket& socket() noexcept { return stream_.next_layer(); }
    /// The common name of the certificate the server presented.
    [[nodiscard]] std::string peer_common_name();
    /// The connection's OpenSSL handle (for the version it speaks).
    [[nodiscard]] SSL* native_handle() { return stream_.native_handle(); }

private:
    boost::asio::io_context io_;
    boost::asio::ssl::context context_;
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace addrservice::testing
