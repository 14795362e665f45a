#include "server/traceparent.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace addrservice::http {
namespace {

constexpr const char* valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, AValidVersion00HeaderGivesItsTraceId)
{
    EXPECT_EQ(trace_id_of(valid), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
              "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(Traceparent, AnythingElseIsIgnored)
{
    const std::string base = valid;
    for (const std::string& value : std::vector<std::string>{
             std::string(), base.substr(0, 54),                                       // short
             base + "-",                                                              // long
             "01" + base.substr(2),                                                   // another version
             "ff" + base.substr(2),                                                   // the invalid version
             std::string("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),  // uppercase
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",               // all-zero trace id
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",               // all-zero parent id
             "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",               // not hex
             "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",               // wrong separators
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",               // flags not hex
         }) {
        EXPECT_EQ(trace_id_of(value), std::nullopt) << value;
    }
}

}  // namespace
}  // namespace addrservice::http
