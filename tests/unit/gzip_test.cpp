#include "server/gzip.hpp"

#include <gtest/gtest.h>

namespace addrservice::http {
namespace {

TEST(Gzip, RoundTrips)
{
    std::string text;
    for (int i = 0; i < 2000; ++i) {
        text += "address book entry " + std::to_string(i) + "\n";
    }
    const auto compressed = gzip_compress(text);
    EXPECT_LT(compressed.size(), text.size() / 4);
    EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1fU);
    EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8bU);
    EXPECT_EQ(gzip_decompress(compressed, text.size()), text);
}

TEST(Gzip, EmptyInputRoundTrips)
{
    EXPECT_EQ(gzip_decompress(gzip_compress(""), 0), "");
}

TEST(Gzip, InflatedSizeIsBounded)
{
    const std::string zeros(1'000'000, '0');
    const auto bomb = gzip_compress(zeros);
    EXPECT_EQ(gzip_decompress(bomb, zeros.size() - 1), std::nullopt);
    EXPECT_EQ(gzip_decompress(bomb, zeros.size())->size(), zeros.size());
}

TEST(Gzip, MembersOneAfterAnotherInflateToTheirContentsInOrder)
{
    // As `cat first.gz second.gz` makes them (RFC 1952, 2.2).
    const auto joined = gzip_compress(R"({"full_name":)") + gzip_compress(R"("Maren Oyelaran"})");
    EXPECT_EQ(gzip_decompress(joined, 1000), R"({"full_name":"Maren Oyelaran"})");
    EXPECT_EQ(gzip_decompress(joined, 10), std::nullopt);  // the bound counts every member
    auto cut = gzip_compress("first") + gzip_compress("second member");
    cut.resize(cut.size() - 4);
    EXPECT_THROW(gzip_decompress(cut, 1000), GzipError);
}

TEST(Gzip, CorruptDataThrows)
{
    EXPECT_THROW(gzip_decompress("definitely not gzip", 1000), GzipError);
    auto truncated = gzip_compress("some text that will be cut short");
    truncated.resize(truncated.size() / 2);
    EXPECT_THROW(gzip_decompress(truncated, 1000), GzipError);
    EXPECT_THROW(gzip_decompress(gzip_compress("x") + "junk", 1000), GzipError);
}

}  // namespace
}  // namespace addrservice::http
