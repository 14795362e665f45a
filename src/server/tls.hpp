#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace addrservice::http {

/// The server's TLS settings (TLS 1.2 and 1.3 only) with its certificate chain and private key, read from
/// PEM files. Each new connection takes the context current at its accept, so a reload changes what new
/// connections present and leaves open ones as they are.
class TlsContext {
public:
    /// Reads both files. Throws ConfigError naming the file that cannot be read, is not PEM of its kind, or
    /// whose key does not match the certificate.
    TlsContext(std::string cert_file, std::string key_file);

    /// Reads both files again; on a failure (a ConfigError, as above) the context in use stays.
    void reload();

    /// The context for a new connection.
    [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> current() const noexcept { return current_; }

private:
    std::string cert_file_;
    std::string key_file_;
    std::shared_ptr<boost::asio::ssl::context> current_;
};

}  // namespace addrservice::http
