#include "server/conditional.hpp"

#include <gtest/gtest.h>

namespace addrservice::http {
namespace {

using Tags = std::vector<EntityTag>;

TEST(EntityTags, AListOfStrongAndWeakTagsWithOptionalWhitespace)
{
    EXPECT_EQ(parse_entity_tags(R"("a")"), (Tags{{R"("a")", false}}));
    EXPECT_EQ(parse_entity_tags(R"( "a" ,W/"b",	"c-1" )"),
              (Tags{{R"("a")", false}, {R"("b")", true}, {R"("c-1")", false}}));
    EXPECT_EQ(parse_entity_tags(R"("")"), (Tags{{R"("")", false}}));
    // Empty list elements are allowed (RFC 9110 section 5.6.1).
    EXPECT_EQ(parse_entity_tags(R"(, "a",,"b",)"), (Tags{{R"("a")", false}, {R"("b")", false}}));
    EXPECT_EQ(parse_entity_tags(""), Tags{});
}

TEST(EntityTags, ACommaInsideATagIsPartOfIt)
{
    EXPECT_EQ(parse_entity_tags(R"("a,b", "c")"), (Tags{{R"("a,b")", false}, {R"("c")", false}}));
}

TEST(EntityTags, AnythingElseIsNoList)
{
    for (const char* value :
         {"abc", R"("a)", R"(w/"a")", R"(W/ "a")", R"("a" "b")", R"("a"b)", "*", R"("a b")", "\"a\x7f\""}) {
        EXPECT_EQ(parse_entity_tags(value), std::nullopt) << value;
    }
}

TEST(WritePrecondition, NoHeadersAskNothing)
{
    const auto precondition = write_precondition(std::nullopt, std::nullopt);
    EXPECT_FALSE(precondition.if_match);
    EXPECT_FALSE(precondition.if_none_match_any);
}

TEST(WritePrecondition, IfMatchStarAsksOnlyThatTheEntryExists)
{
    const auto precondition = write_precondition(" * ", std::nullopt);
    EXPECT_FALSE(precondition.if_match);
    EXPECT_TRUE(precondition.if_match_any);
    EXPECT_FALSE(write_precondition(R"("a")", std::nullopt).if_match_any);
    EXPECT_FALSE(write_precondition(std::nullopt, "*").if_match_any);
}

TEST(WritePrecondition, IfMatchKeepsItsStrongTagsOnly)
{
    const auto precondition = write_precondition(R"("a", W/"b", "c")", std::nullopt);
    ASSERT_TRUE(precondition.if_match);
    EXPECT_EQ(*precondition.if_match, (std::vector<std::string>{R"("a")", R"("c")"}));
}

TEST(WritePrecondition, WeakOrMalformedIfMatchMatchesNothing)
{
    for (const char* value : {R"(W/"a")", "a", R"("a)", ""}) {
        const auto precondition = write_precondition(value, std::nullopt);
        ASSERT_TRUE(precondition.if_match) << value;
        EXPECT_TRUE(precondition.if_match->empty()) << value;
    }
}

TEST(WritePrecondition, IfNoneMatchStarAsksForNoEntry)
{
    EXPECT_TRUE(write_precondition(std::nullopt, "*").if_none_match_any);
    EXPECT_TRUE(write_precondition(std::nullopt, " *\t").if_none_match_any);
    // An If-None-Match of tags does not apply to a write.
    EXPECT_FALSE(write_precondition(std::nullopt, R"("a")").if_none_match_any);
}

}  // namespace
}  // namespace addrservice::http
