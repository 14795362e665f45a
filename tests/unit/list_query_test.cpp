#include "server/list_query.hpp"

#include <gtest/gtest.h>

namespace addrservice::http {
namespace {

std::vector<QueryProblem> problems_of(std::string_view target, std::size_t max_page = 1000)
{
    try {
        parse_list_query(target, max_page);
    } catch (const InvalidQueryError& e) {
        return e.problems();
    }
    return {};
}

TEST(ListQuery, NoQueryIsTheWholeBook)
{
    for (const char* target : {"/addresses", "/addresses?", "/addresses/?", "/addresses?&&"}) {
        const auto query = parse_list_query(target, 1000);
        EXPECT_FALSE(query.limit) << target;
        EXPECT_TRUE(query.after.empty()) << target;
    }
}

TEST(ListQuery, LimitAndAfterAreRead)
{
    const auto query = parse_list_query("/addresses?limit=25&after=b44714fb-d0de", 1000);
    EXPECT_EQ(query.limit, 25U);
    EXPECT_EQ(query.after, "b44714fb-d0de");
    EXPECT_EQ(parse_list_query("/addresses?after=x", 1000).after, "x");
    EXPECT_FALSE(parse_list_query("/addresses?after=x", 1000).limit);
    EXPECT_EQ(parse_list_query("/addresses?limit=1000", 1000).limit, 1000U);
    EXPECT_EQ(parse_list_query("/addresses?limit=007", 1000).limit, 7U);
}

TEST(ListQuery, ParametersArePercentDecoded)
{
    EXPECT_EQ(parse_list_query("/addresses?%6Cimit=%32&after=a%2Db", 1000).limit, 2U);
    EXPECT_EQ(parse_list_query("/addresses?%6Cimit=%32&after=a%2Db", 1000).after, "a-b");
}

TEST(ListQuery, OtherParametersAreIgnored)
{
    const auto query = parse_list_query("/addresses?sort=name&limit=3&x&%zz=1&Limit=9", 1000);
    EXPECT_EQ(query.limit, 3U);
}

TEST(ListQuery, ALimitOutOfRangeOrNotAnIntegerNamesTheParameter)
{
    for (const char* target :
         {"/addresses?limit=0", "/addresses?limit=1001", "/addresses?limit=-1", "/addresses?limit=+5",
          "/addresses?limit=5.0", "/addresses?limit=", "/addresses?limit", "/addresses?limit=1e3",
          "/addresses?limit=%zz", "/addresses?limit=99999999999999999999999", "/addresses?limit=%205"}) {
        EXPECT_EQ(problems_of(target), (std::vector<QueryProblem>{{"limit", "must be an integer from 1 to 1000"}}))
            << target;
    }
    EXPECT_EQ(problems_of("/addresses?limit=11", 10),
              (std::vector<QueryProblem>{{"limit", "must be an integer from 1 to 10"}}));
}

TEST(ListQuery, AnAfterOutsideTheIdAlphabetNamesTheParameter)
{
    for (const char* target : {"/addresses?after=", "/addresses?after", "/addresses?after=a_b", "/addresses?after=a/b",
                               "/addresses?after=..%2F", "/addresses?after=%C3%A9", "/addresses?after=a+b"}) {
        EXPECT_EQ(problems_of(target), (std::vector<QueryProblem>{{"after", "must be one or more of [a-zA-Z0-9-]"}}))
            << target;
    }
}

TEST(ListQuery, EveryWrongParameterIsNamed)
{
    EXPECT_EQ(problems_of("/addresses?limit=x&after=!"),
              (std::vector<QueryProblem>{{"limit", "must be an integer from 1 to 1000"},
                                         {"after", "must be one or more of [a-zA-Z0-9-]"}}));
    EXPECT_EQ(problems_of("/addresses?limit=1&limit=2&after=a&after=b"),
              (std::vector<QueryProblem>{{"limit", "must be given once"}, {"after", "must be given once"}}));
}

TEST(ListQuery, TheNextPageTarget)
{
    EXPECT_EQ(next_page_target(25, "b44714fb"), "/addresses?limit=25&after=b44714fb");
}

}  // namespace
}  // namespace addrservice::http
