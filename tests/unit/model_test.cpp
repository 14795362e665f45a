#include "addrservice/model.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

namespace addrservice {
namespace {

using nlohmann::json;

TEST(Model, EverySampleRoundTripsValueForValue)
{
    for (const auto& file : testing::sample_files()) {
        const auto document = json::parse(testing::read_file(file));
        const json back = document.get<AddressEntry>();
        EXPECT_EQ(back, document) << file;
    }
}

TEST(Model, NumbersStayNumbersAndStringsStayStrings)
{
    const json document = json::parse(R"({
        "full_name": "Zephyrine Oduya",
        "addresses": [
            {"kind": "work", "street_name": "Kiln Row", "pincode": 560001, "country": "Freedonia",
             "street_number": "12A", "unit_number": 3.5},
            {"kind": "home", "street_name": "Kiln Row", "pincode": "560 001", "country": "Freedonia",
             "street_number": 12}
        ],
        "phone_numbers": [{"kind": "home", "country_code": 99, "local_number": 18446744073709551615}]
    })");
    const auto entry = document.get<AddressEntry>();
    ASSERT_TRUE(entry.addresses);
    const auto& work = (*entry.addresses)[0];
    EXPECT_EQ(std::get<std::int64_t>(work.pincode), 560001);
    EXPECT_EQ(std::get<std::string>(*work.street_number), "12A");
    EXPECT_EQ(std::get<double>(*work.unit_number), 3.5);
    const auto& home = (*entry.addresses)[1];
    EXPECT_EQ(std::get<std::string>(home.pincode), "560 001");
    EXPECT_EQ(std::get<std::int64_t>(*home.street_number), 12);
    EXPECT_EQ(std::get<std::uint64_t>((*entry.phone_numbers)[0].local_number), 18446744073709551615ULL);
    EXPECT_EQ(json(entry), document);
}

TEST(Model, AbsentStaysAbsent)
{
    const json document = {{"full_name", "Quill Anand"}};
    const auto entry = document.get<AddressEntry>();
    EXPECT_FALSE(entry.addresses);
    EXPECT_FALSE(entry.emails);
    EXPECT_EQ(json(entry), document);
    // An empty list is not an absent one.
    const json with_empty = {{"full_name", "Quill Anand"}, {"emails", json::array()}};
    EXPECT_EQ(json(with_empty.get<AddressEntry>()), with_empty);
}

TEST(Model, KindMustBeHomeOrWork)
{
    const json document = {{"kind", "holiday"}, {"email", "a@b.example"}};
    EXPECT_ANY_THROW(document.get<Email>());
}

TEST(Model, NumberFieldRejectsAString)
{
    const json document = {{"kind", "home"}, {"country_code", "99"}, {"local_number", 1}};
    EXPECT_ANY_THROW(document.get<Phone>());
}

}  // namespace
}  // namespace addrservice
