#include "server/tls.hpp"

#include "addrservice/config.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace addrservice::http {

namespace ssl = boost::asio::ssl;

namespace {

/// OpenSSL's reason for the last failure, or what to say when it gives none.
std::string openssl_reason(const boost::system::error_code& ec)
{
    const auto* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    return reason != nullptr ? reason : ec.message();
}

/// A server context with the certificate chain and key of these files, refusing TLS below 1.2.
std::shared_ptr<ssl::context> make_context(const std::string& cert_file, const std::string& key_file)
{
    // At most 1 MiB each, never a FIFO: a SIGHUP reload reads them on the event loop.
    const auto cert = read_small_file(cert_file, "tls.cert");
    const auto key = read_small_file(key_file, "tls.key");
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    ::SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    context->use_certificate_chain(boost::asio::buffer(cert), ec);
    if (ec) {
        throw ConfigError("config: tls.cert: '" + cert_file + "' holds no usable PEM certificate (" +
                          openssl_reason(ec) + ")");
    }
    // Without a callback, OpenSSL asks for an encrypted key's passphrase on the terminal and waits for it,
    // holding the start or, on SIGHUP, the event loop: no passphrase is ever given.
    context->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
    context->use_private_key(boost::asio::buffer(key), ssl::context::pem, ec);
    if (ec && key.find("ENCRYPTED") != std::string::npos) {
        throw ConfigError("config: tls.key: '" + key_file +
                          "' is encrypted with a passphrase, which addrservice does not ask for; give it the key "
                          "unencrypted (openssl pkey -in KEY -out PLAIN), readable by the service alone");
    }
    if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
        throw ConfigError("config: tls.key: '" + key_file + "' does not match the certificate in '" + cert_file + "'");
    }
    if (ec) {
        throw ConfigError("config: tls.key: '" + key_file + "' holds no usable PEM private key (" + openssl_reason(ec) +
                          ")");
    }
    if (::SSL_CTX_check_private_key(context->native_handle()) != 1) {
        ::ERR_clear_error();
        throw ConfigError("config: tls.key: '" + key_file + "' does not match the certificate in '" + cert_file + "'");
    }
    return context;
}

}  // namespace

TlsContext::TlsContext(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), current_(make_context(cert_file_, key_file_))
{
}

void TlsContext::reload()
{
    current_ = make_context(cert_file_, key_file_);
}

}  // namespace addrservice::http
