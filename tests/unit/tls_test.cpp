// The TLS context: what a certificate and key must be to serve, and what a reload keeps.
#include "server/tls.hpp"

#include "addrservice/config.hpp"
#include "support/tls_client.hpp"

#include <gtest/gtest.h>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <string>

namespace addrservice::http {
namespace {

using testing::SelfSignedCertificate;

std::string error_of(const std::string& cert, const std::string& key)
{
    try {
        TlsContext context(cert, key);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(TlsContext, ACertificateAndItsKeyServe)
{
    const SelfSignedCertificate certificate("tls-unit");
    const TlsContext context(certificate.cert().string(), certificate.key().string());
    EXPECT_NE(context.current(), nullptr);
}

TEST(TlsContext, AnUnreadableFileIsAnErrorNamingIt)
{
    const SelfSignedCertificate certificate("tls-unit");
    const auto missing = (certificate.directory() / "missing.pem").string();
    EXPECT_EQ(error_of(missing, certificate.key().string()),
              "config: tls.cert: cannot read '" + missing + "': No such file or directory");
    EXPECT_EQ(error_of(certificate.cert().string(), missing),
              "config: tls.key: cannot read '" + missing + "': No such file or directory");
    EXPECT_EQ(error_of(certificate.directory().string(), certificate.key().string()),
              "config: tls.cert: cannot read '" + certificate.directory().string() + "': is a directory");
    // Neither an endless device nor a FIFO holds the start (or a reload on the event loop).
    EXPECT_EQ(error_of("/dev/zero", certificate.key().string()),
              "config: tls.cert: cannot read '/dev/zero': larger than 1 MiB (1048576 bytes)");
    const auto fifo = (certificate.directory() / "fifo.pem").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(error_of(certificate.cert().string(), fifo),
              "config: tls.key: cannot read '" + fifo + "': is a FIFO or socket, not a file");
}

TEST(TlsContext, AFileThatIsNotPemOfItsKindIsAnErrorNamingIt)
{
    const SelfSignedCertificate certificate("tls-unit");
    const auto text = (certificate.directory() / "text.pem").string();
    std::ofstream(text) << "not a certificate\n";
    EXPECT_TRUE(error_of(text, certificate.key().string())
                    .starts_with("config: tls.cert: '" + text + "' holds no usable PEM certificate"));
    EXPECT_TRUE(error_of(certificate.cert().string(), text)
                    .starts_with("config: tls.key: '" + text + "' holds no usable PEM private key"));
    // The certificate where the key should be, and the other way round.
    EXPECT_TRUE(error_of(certificate.cert().string(), certificate.cert().string()).starts_with("config: tls.key: "));
    EXPECT_TRUE(error_of(certificate.key().string(), certificate.key().string()).starts_with("config: tls.cert: "));
}

TEST(TlsContext, AnEncryptedKeyIsAnErrorAndNoPassphraseIsAskedFor)
{
    const SelfSignedCertificate certificate("tls-unit");
    const auto encrypted = certificate.directory() / "encrypted.pem";
    ASSERT_EQ(std::system(("openssl pkey -in '" + certificate.key().string() + "' -aes256 -passout pass:sesame -out '" +
                           encrypted.string() + "'")
                              .c_str()),
              0);
    // Standard input holds a line OpenSSL would take for the passphrase if it asked: it must stay unread.
    std::array<int, 2> pipe_ends{};
    ASSERT_EQ(::pipe(pipe_ends.data()), 0);
    ASSERT_EQ(::write(pipe_ends[1], "sesame\n", 7), 7);
    const int saved_stdin = ::dup(STDIN_FILENO);
    ::dup2(pipe_ends[0], STDIN_FILENO);
    const auto error = error_of(certificate.cert().string(), encrypted.string());
    ::dup2(saved_stdin, STDIN_FILENO);
    ::close(saved_stdin);
    int unread = 0;
    ::ioctl(pipe_ends[0], FIONREAD, &unread);
    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
    EXPECT_EQ(error, "config: tls.key: '" + encrypted.string() +
                         "' is encrypted with a passphrase, which addrservice does not ask for; give it the key "
                         "unencrypted (openssl pkey -in KEY -out PLAIN), readable by the service alone");
    EXPECT_EQ(unread, 7);
}

TEST(TlsContext, AKeyThatDoesNotMatchTheCertificateIsAnError)
{
    const SelfSignedCertificate one("tls-one");
    const SelfSignedCertificate other("tls-other");
    EXPECT_EQ(error_of(one.cert().string(), other.key().string()), "config: tls.key: '" + other.key().string() +
                                                                       "' does not match the certificate in '" +
                                                                       one.cert().string() + "'");
}

TEST(TlsContext, AReloadTakesNewFilesAndAFailedOneKeepsTheContextInUse)
{
    const SelfSignedCertificate certificate("tls-unit");
    const auto cert = (certificate.directory() / "served-cert.pem").string();
    const auto key = (certificate.directory() / "served-key.pem").string();
    std::filesystem::copy_file(certificate.cert(), cert);
    std::filesystem::copy_file(certificate.key(), key);
    TlsContext context(cert, key);
    const auto first = context.current();

    context.reload();
    const auto second = context.current();
    EXPECT_NE(second, first);

    std::ofstream(key, std::ios::trunc) << "garbage\n";
    EXPECT_THROW(context.reload(), ConfigError);
    EXPECT_EQ(context.current(), second);
}

}  // namespace
}  // namespace addrservice::http
