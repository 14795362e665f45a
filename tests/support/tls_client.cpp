#include "support/tls_client.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>

namespace addrservice::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

SelfSignedCertificate::SelfSignedCertificate(const std::string& common_name)
{
    std::random_device random;
    directory_ = std::filesystem::temp_directory_path() / ("addrservice-tls-" + std::to_string(random()));
    std::filesystem::create_directories(directory_);
    cert_ = directory_ / "cert.pem";
    key_ = directory_ / "key.pem";
    const auto command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" + common_name +
        " -addext subjectAltName=IP:127.0.0.1 -keyout " + key_.string() + " -out " + cert_.string() + " 2>/dev/null";
    if (std::system(command.c_str()) != 0) {  // NOLINT(cert-env33-c,concurrency-mt-unsafe): a test's fixed command
        throw std::runtime_error("openssl could not make a certificate: " + command);
    }
}

SelfSignedCertificate::~SelfSignedCertificate()
{
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

TlsClient::TlsClient(std::uint16_t port, const std::filesystem::path& trusted_cert, int max_version)
    : context_(asio::ssl::context::tls_client), stream_(io_, context_)
{
    if (max_version != 0) {
        // On the stream's own handle (it copied the context's settings when it was made); security level 0,
        // so that the client's own policy is not what refuses an old version.
        SSL_set_security_level(stream_.native_handle(), 0);
        SSL_set_min_proto_version(stream_.native_handle(), TLS1_VERSION);
        SSL_set_max_proto_version(stream_.native_handle(), max_version);
        SSL_set_cipher_list(stream_.native_handle(), "DEFAULT:@SECLEVEL=0");
    }
    context_.load_verify_file(trusted_cert.string());
    stream_.set_verify_mode(asio::ssl::verify_peer);
    stream_.next_layer().connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.handshake(asio::ssl::stream_base::client);
}

ClientResponse TlsClient::get(const std::string& target)
{
    ClientRequest request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    http::write(stream_, request);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64U * 1024U * 1024U);
    http::read(stream_, buffer_, parser);
    return parser.release();
}

void TlsClient::write_raw(const std::string& bytes)
{
    asio::write(stream_, asio::buffer(bytes));
}

std::string TlsClient::read_until_close()
{
    const timeval silence{10, 0};
    ::setsockopt(socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &silence, sizeof(silence));
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.clear();
    for (;;) {
        std::array<char, 4096> chunk{};
        boost::system::error_code ec;
        const auto n = stream_.read_some(asio::buffer(chunk), ec);
        out.append(chunk.data(), n);
        if (ec) {
            return out;
        }
    }
}

std::string TlsClient::peer_common_name()
{
    const std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(stream_.native_handle()),
                                                           &X509_free);
    if (!cert) {
        return {};
    }
    std::array<char, 256> name{};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, name.data(),
                              static_cast<int>(name.size()));
    return name.data();
}

}  // namespace addrservice::testing
