#include "addrservice/address_service.hpp"
#include "addrservice/errors.hpp"
#include "addrservice/store/memory_store.hpp"
#include "support/run_task.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <regex>
#include <set>
#include <vector>

namespace addrservice {
namespace {

using nlohmann::json;
using testing::run_task;

class AddressServiceTest : public ::testing::Test {
protected:
    std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
    AddressService service{store};

    static std::string sample(std::size_t index = 0) { return testing::read_file(testing::sample_files().at(index)); }
};

TEST_F(AddressServiceTest, CreateReturnsA32HexIdAndStoresTheEntry)
{
    const auto id = run_task(service.create(sample()));
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
    const auto entry = run_task(service.get(id));
    EXPECT_EQ(json::parse(entry->json), json::parse(sample()));
    EXPECT_EQ(store->size(), 1U);
}

TEST_F(AddressServiceTest, IdsAreUnique)
{
    std::set<std::string> ids;
    for (int i = 0; i < 200; ++i) {
        ids.insert(run_task(service.create(R"({"full_name": "Oren Valdés"})")));
    }
    EXPECT_EQ(ids.size(), 200U);
}

TEST_F(AddressServiceTest, EachCreatedIdSortsAfterTheOneBefore)
{
    std::vector<std::string> ids;
    for (int i = 0; i < 200; ++i) {
        ids.push_back(run_task(service.create(R"({"full_name": "Ilse Brandvold"})")));
    }
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()), ids.end());
    const auto page = run_task(store->range("", ids.size()));
    ASSERT_EQ(page.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(page[i].first, ids[i]) << "an entry listed out of the order it was created in, at " << i;
    }
}

TEST_F(AddressServiceTest, CreateRefusesInvalidJson)
{
    EXPECT_THROW(run_task(service.create("{\"full_name\": ")), InvalidJsonError);
    EXPECT_EQ(store->size(), 0U);
}

TEST_F(AddressServiceTest, CreateRefusesASchemaViolationWithEveryViolation)
{
    try {
        run_task(service.create(R"({"full_name": 1, "extra": true})"));
        FAIL() << "expected a SchemaValidationError";
    } catch (const SchemaValidationError& e) {
        EXPECT_EQ(e.violations().size(), 2U);
    }
    EXPECT_EQ(store->size(), 0U);
}

TEST_F(AddressServiceTest, GetUnknownIdIsNotFoundNamingTheId)
{
    try {
        run_task(service.get("0123abcd"));
        FAIL() << "expected a NotFoundError";
    } catch (const NotFoundError& e) {
        EXPECT_STREQ(e.what(), "Address 0123abcd not found");
        EXPECT_EQ(e.id(), "0123abcd");
    }
}

TEST_F(AddressServiceTest, MalformedIdsAreNotFound)
{
    EXPECT_THROW(run_task(service.get("../etc/passwd")), NotFoundError);
    EXPECT_THROW(run_task(service.get("")), NotFoundError);
    EXPECT_THROW(run_task(service.remove("a b")), NotFoundError);
}

TEST_F(AddressServiceTest, UpdateReplacesTheEntry)
{
    const auto id = run_task(service.create(sample(0)));
    const auto before = run_task(service.get(id));
    run_task(service.update(id, sample(1)));
    const auto after = run_task(service.get(id));
    EXPECT_EQ(json::parse(after->json), json::parse(sample(1)));
    EXPECT_NE(before->etag, after->etag);
}

TEST_F(AddressServiceTest, UpdateValidatesBeforeLookingUp)
{
    EXPECT_THROW(run_task(service.update("feedface", R"({"nope": 1})")), SchemaValidationError);
    EXPECT_THROW(run_task(service.update("feedface", "not json")), InvalidJsonError);
    EXPECT_THROW(run_task(service.update("feedface", sample())), NotFoundError);
}

TEST_F(AddressServiceTest, RemoveDeletesOnce)
{
    const auto id = run_task(service.create(sample()));
    run_task(service.remove(id));
    EXPECT_THROW(run_task(service.get(id)), NotFoundError);
    EXPECT_THROW(run_task(service.remove(id)), NotFoundError);
}

TEST_F(AddressServiceTest, ListIsAnObjectOfEveryEntryById)
{
    EXPECT_EQ(run_task(service.list()).body->json, "{}");
    const auto a = run_task(service.create(sample(0)));
    const auto b = run_task(service.create(sample(1)));
    const auto list = json::parse(run_task(service.list()).body->json);
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[a], json::parse(sample(0)));
    EXPECT_EQ(list[b], json::parse(sample(1)));
}

TEST_F(AddressServiceTest, ListEtagChangesWithAnyWrite)
{
    const auto id = run_task(service.create(sample(0)));
    const auto first = run_task(service.list()).body->etag;
    EXPECT_EQ(run_task(service.list()).body->etag, first);
    run_task(service.update(id, sample(1)));
    const auto second = run_task(service.list()).body->etag;
    EXPECT_NE(second, first);
    run_task(service.remove(id));
    EXPECT_NE(run_task(service.list()).body->etag, second);
}

Precondition if_match(std::vector<std::string> etags)
{
    return Precondition{std::move(etags), false};
}

TEST_F(AddressServiceTest, UpdateReturnsTheNewEtag)
{
    const auto id = run_task(service.create(sample(0)));
    const auto result = run_task(service.update(id, sample(1)));
    EXPECT_FALSE(result.created);
    EXPECT_EQ(result.etag, run_task(service.get(id))->etag);
}

TEST_F(AddressServiceTest, UpdateWithIfMatchWritesOnlyOverAListedEtag)
{
    const auto id = run_task(service.create(sample(0)));
    const auto etag = run_task(service.get(id))->etag;
    try {
        run_task(service.update(id, sample(1), if_match({R"("other-1")"})));
        FAIL() << "expected a PreconditionFailedError";
    } catch (const PreconditionFailedError& e) {
        EXPECT_EQ(e.current_etag(), etag);
    }
    EXPECT_EQ(run_task(service.get(id))->etag, etag);  // nothing changed
    EXPECT_THROW(run_task(service.update(id, sample(1), if_match({}))), PreconditionFailedError);
    // Any listed ETag will do.
    const auto written = run_task(service.update(id, sample(1), if_match({R"("other-1")", etag})));
    EXPECT_EQ(run_task(service.get(id))->etag, written.etag);
    // The ETag it held is no longer current.
    EXPECT_THROW(run_task(service.update(id, sample(2), if_match({etag}))), PreconditionFailedError);
}

TEST_F(AddressServiceTest, ConditionalWritesOnAnUnknownIdAreNotFound)
{
    EXPECT_THROW(run_task(service.update("feedface", sample(), if_match({R"("x-1")"}))), NotFoundError);
    EXPECT_THROW(run_task(service.update("feedface", sample(), if_match({}))), NotFoundError);
    EXPECT_THROW(run_task(service.remove("feedface", if_match({R"("x-1")"}))), NotFoundError);
    EXPECT_THROW(run_task(service.patch("feedface", PatchFormat::merge_patch, "{}", if_match({R"("x-1")"}))),
                 NotFoundError);
}

TEST_F(AddressServiceTest, PutWithIfNoneMatchStarCreatesAtTheIdOnlyOnce)
{
    const Precondition create_only{std::nullopt, true};
    const auto result = run_task(service.update("wren-halloway", sample(0), create_only));
    EXPECT_TRUE(result.created);
    EXPECT_EQ(run_task(service.get("wren-halloway"))->etag, result.etag);
    try {
        run_task(service.update("wren-halloway", sample(1), create_only));
        FAIL() << "expected a PreconditionFailedError";
    } catch (const PreconditionFailedError& e) {
        EXPECT_EQ(e.current_etag(), result.etag);
    }
    EXPECT_EQ(json::parse(run_task(service.get("wren-halloway"))->json), json::parse(sample(0)));
    // Still validated first.
    EXPECT_THROW(run_task(service.update("someone-else", R"({"nope": 1})", create_only)), SchemaValidationError);
    EXPECT_EQ(store->size(), 1U);
}

TEST_F(AddressServiceTest, RemoveWithIfMatch)
{
    const auto id = run_task(service.create(sample(0)));
    const auto etag = run_task(service.get(id))->etag;
    EXPECT_THROW(run_task(service.remove(id, if_match({R"("stale-1")"}))), PreconditionFailedError);
    EXPECT_EQ(store->size(), 1U);
    run_task(service.remove(id, if_match({etag})));
    EXPECT_EQ(store->size(), 0U);
}

TEST_F(AddressServiceTest, IfNoneMatchStarOnAnExistingEntryNeverWrites)
{
    const auto id = run_task(service.create(sample(0)));
    const Precondition absent_only{std::nullopt, true};
    EXPECT_THROW(run_task(service.remove(id, absent_only)), PreconditionFailedError);
    EXPECT_THROW(run_task(service.patch(id, PatchFormat::merge_patch, R"({"full_name":"X"})", absent_only)),
                 PreconditionFailedError);
    const Precondition contradictory{std::vector<std::string>{}, true};
    EXPECT_THROW(run_task(service.update(id, sample(1), contradictory)), PreconditionFailedError);
    EXPECT_THROW(run_task(service.update("feedface", sample(1), contradictory)), NotFoundError);
    EXPECT_EQ(json::parse(run_task(service.get(id))->json), json::parse(sample(0)));
}

TEST_F(AddressServiceTest, MergePatchChangesWhatItNamesAndReturnsTheNewEtag)
{
    const auto id = run_task(service.create(R"({"full_name": "Wren Halloway", "emails": [{"kind": "home",
        "email": "wren@halloway.example"}]})"));
    const auto etag = run_task(service.patch(id, PatchFormat::merge_patch, R"({"full_name": "Wren H. Halloway"})"));
    const auto entry = run_task(service.get(id));
    EXPECT_EQ(entry->etag, etag);
    // The canonical text, as a POST of the same entry would store it.
    EXPECT_EQ(entry->json, service.normalise(R"({"emails": [{"kind": "home", "email": "wren@halloway.example"}],
        "full_name": "Wren H. Halloway"})"));
}

TEST_F(AddressServiceTest, JsonPatchAppliesOrConflicts)
{
    const auto id = run_task(service.create(R"({"full_name": "Wren Halloway"})"));
    run_task(service.patch(id, PatchFormat::json_patch, R"([{"op": "test", "path": "/full_name",
        "value": "Wren Halloway"}, {"op": "add", "path": "/emails", "value": [{"kind": "work",
        "email": "wren@works.example"}]}])"));
    EXPECT_EQ(json::parse(run_task(service.get(id))->json)["emails"][0]["kind"], "work");
    const auto before = run_task(service.get(id))->json;
    EXPECT_THROW(run_task(service.patch(id, PatchFormat::json_patch,
                                        R"([{"op": "test", "path": "/full_name", "value": "Someone Else"}])")),
                 PatchConflictError);
    EXPECT_EQ(run_task(service.get(id))->json, before);
}

TEST_F(AddressServiceTest, APatchedEntryIsValidatedWithPointersIntoTheResult)
{
    const auto id = run_task(service.create(R"({"full_name": "Wren Halloway", "emails": [{"kind": "home",
        "email": "wren@halloway.example"}]})"));
    try {
        run_task(service.patch(id, PatchFormat::json_patch,
                               R"([{"op": "replace", "path": "/emails/0/kind", "value": "holiday"}])"));
        FAIL() << "expected a SchemaValidationError";
    } catch (const SchemaValidationError& e) {
        ASSERT_EQ(e.violations().size(), 1U);
        EXPECT_EQ(e.violations()[0].pointer, "/emails/0/kind");
    }
    EXPECT_THROW(run_task(service.patch(id, PatchFormat::merge_patch, R"({"full_name": null})")),
                 SchemaValidationError);
}

TEST_F(AddressServiceTest, APatchThatIsNotJsonIsRefusedBeforeLookup)
{
    EXPECT_THROW(run_task(service.patch("feedface", PatchFormat::merge_patch, "full_name=X")), InvalidJsonError);
    EXPECT_THROW(run_task(service.patch("feedface", PatchFormat::json_patch, R"({"op": "add"})")), InvalidJsonError);
}

TEST_F(AddressServiceTest, PatchWithIfMatch)
{
    const auto id = run_task(service.create(R"({"full_name": "Wren Halloway"})"));
    const auto etag = run_task(service.get(id))->etag;
    EXPECT_THROW(run_task(service.patch(id, PatchFormat::merge_patch, R"({"full_name": "W"})", if_match({R"("x-1")"}))),
                 PreconditionFailedError);
    const auto next = run_task(service.patch(id, PatchFormat::merge_patch, R"({"full_name": "W"})", if_match({etag})));
    EXPECT_NE(next, etag);
}

TEST_F(AddressServiceTest, APatchedEntryIsBoundedLikeABody)
{
    AddressService small(store, ServiceOptions{64});
    const auto id = run_task(small.create(R"({"full_name": "Wren Halloway"})"));
    EXPECT_THROW(
        run_task(small.patch(id, PatchFormat::merge_patch, R"({"full_name": ")" + std::string(100, 'w') + R"("})")),
        EntryTooLargeError);
}

TEST_F(AddressServiceTest, APageHoldsAtMostLimitEntriesAndSaysWhereTheNextStarts)
{
    for (const auto* id : {"c", "a", "d", "b"}) {
        run_task(service.update(id, R"({"full_name": "Wren"})", Precondition{std::nullopt, true}));
    }
    auto page = run_task(service.list(ListQuery{"", 3}));
    EXPECT_EQ(page.body->json.substr(0, 6), R"({"a":{)");
    EXPECT_EQ(json::parse(page.body->json).size(), 3U);
    EXPECT_EQ(page.next_after, "c");
    page = run_task(service.list(ListQuery{"c", 3}));
    EXPECT_EQ(json::parse(page.body->json).size(), 1U);
    EXPECT_EQ(page.next_after, std::nullopt);
    page = run_task(service.list(ListQuery{"a", std::nullopt}));
    EXPECT_EQ(json::parse(page.body->json).size(), 3U);
    EXPECT_EQ(run_task(service.list(ListQuery{"d", 3})).body->json, "{}");
}

TEST_F(AddressServiceTest, APageThatHoldsTheWholeBookIsTheWholeList)
{
    run_task(service.update("a1", sample(0), Precondition{std::nullopt, true}));
    run_task(service.update("b2", sample(1), Precondition{std::nullopt, true}));
    const auto whole = run_task(service.list());
    const auto page = run_task(service.list(ListQuery{"", 2}));
    EXPECT_EQ(page.body->json, whole.body->json);
    EXPECT_EQ(page.body->etag, whole.body->etag);
    // The same entries with more to follow are another representation, with another ETag.
    const auto first = run_task(service.list(ListQuery{"", 1}));
    EXPECT_EQ(first.next_after, "a1");
    run_task(service.remove("b2"));
    const auto alone = run_task(service.list(ListQuery{"", 1}));
    EXPECT_EQ(alone.next_after, std::nullopt);
    EXPECT_EQ(alone.body->json, first.body->json);
    EXPECT_NE(alone.body->etag, first.body->etag);
}

TEST_F(AddressServiceTest, ListEtagsAreTheSameForTheSameEntriesInAnotherService)
{
    run_task(service.update("a1", sample(0), Precondition{std::nullopt, true}));
    run_task(service.update("b2", sample(1), Precondition{std::nullopt, true}));
    auto other_store = std::make_shared<MemoryStore>();
    AddressService other(other_store);
    run_task(other.update("b2", sample(1), Precondition{std::nullopt, true}));
    run_task(other.update("a1", sample(0), Precondition{std::nullopt, true}));
    EXPECT_EQ(run_task(other.list()).body->etag, run_task(service.list()).body->etag);
    EXPECT_EQ(run_task(other.list(ListQuery{"", 1})).body->etag, run_task(service.list(ListQuery{"", 1})).body->etag);
}

/// Every part of a stream, concatenated; calls between() after each part.
std::string read_all(BodyStream& stream, const std::function<void()>& between = {})
{
    std::string text;
    for (;;) {
        const auto part = run_task(stream.next());
        if (part.empty()) {
            return text;
        }
        text += part;
        if (between) {
            between();
        }
    }
}

TEST_F(AddressServiceTest, AListLongerThanAPageIsStreamedAPageAtATime)
{
    AddressService paged(store, ServiceOptions{1048576, 3});
    for (int i = 0; i < 10; ++i) {
        run_task(paged.update("k" + std::to_string(i), sample(i % 3), Precondition{std::nullopt, true}));
    }
    auto result = run_task(paged.list());
    ASSERT_NE(result.stream, nullptr);
    EXPECT_EQ(result.body, nullptr);
    std::size_t parts = 0;
    const auto text = read_all(*result.stream, [&parts] { ++parts; });
    EXPECT_EQ(parts, 5U);                                  // "{" and 3 entries, 3, 3, 1, then "}"
    EXPECT_EQ(text, run_task(service.list()).body->json);  // as the same book held whole
    // Three entries or fewer come whole, with an ETag.
    result = run_task(paged.list(ListQuery{"k6", std::nullopt}));
    ASSERT_NE(result.body, nullptr);
    EXPECT_EQ(json::parse(result.body->json).size(), 3U);
    EXPECT_EQ(run_task(paged.list(ListQuery{"k5", std::nullopt})).body, nullptr);
}

TEST_F(AddressServiceTest, AStreamedListSendsEveryEntryThatStaysOnceWhileOthersWrite)
{
    AddressService paged(store, ServiceOptions{1048576, 2});
    for (int i = 0; i < 9; ++i) {
        run_task(paged.update("k" + std::to_string(i), sample(0), Precondition{std::nullopt, true}));
    }
    const auto result = run_task(paged.list());
    ASSERT_NE(result.stream, nullptr);
    int round = 0;
    const auto text = read_all(*result.stream, [&] {
        // Entries come before, among and after the ones the stream has sent, and one goes again.
        const auto name = std::to_string(round);
        run_task(paged.update("a" + name, sample(1), Precondition{std::nullopt, true}));
        run_task(paged.update("k" + name + "-x", sample(1), Precondition{std::nullopt, true}));
        run_task(paged.update("z" + name, sample(1), Precondition{std::nullopt, true}));
        run_task(paged.remove("k" + name + "-x"));
        ++round;
    });
    EXPECT_TRUE(json::accept(text));
    for (int i = 0; i < 9; ++i) {
        const auto key = "\"k" + std::to_string(i) + "\":";
        EXPECT_NE(text.find(key), std::string::npos) << i;
        EXPECT_EQ(text.find(key), text.rfind(key)) << i;
    }
    EXPECT_EQ(text.find("\"a0\":"), std::string::npos);  // written before where the stream was
    EXPECT_NE(text.find("\"z0\":"), std::string::npos);  // written after it
}

TEST_F(AddressServiceTest, StoresTheNormalisedEntry)
{
    const auto id = run_task(service.create("  {\"full_name\" :\n \"Ana\\u00efs Brandt\" }  "));
    EXPECT_EQ(run_task(service.get(id))->json, R"({"full_name":"Anaïs Brandt"})");
}

/// The violations create finds in body; none when it stores the entry.
std::vector<Violation> violations_of_create(AddressService& service, const std::string& body)
{
    try {
        run_task(service.create(body));
    } catch (const SchemaValidationError& e) {
        return e.violations();
    }
    return {};
}

TEST_F(AddressServiceTest, AnArrayOrObjectAsTheEmailIsAViolationNotACrash)
{
    for (const auto* email : {"[1]", "{\"a\": 1}", "[\"ada@example.org\"]"}) {
        const auto violations = violations_of_create(
            service, std::string(R"({"full_name":"x","emails":[{"kind":"home","email":)") + email + "}]}");
        ASSERT_EQ(violations.size(), 1U) << email;
        EXPECT_EQ(violations[0].pointer, "/emails/0/email");
        EXPECT_EQ(violations[0].message, "must be of type string");
    }
    EXPECT_EQ(store->size(), 0U);
}

TEST_F(AddressServiceTest, AnUnknownPropertyIsNamedWholeWhateverItsName)
{
    const auto violations = violations_of_create(service, R"({"full_name":"x","it's":1,"a/b~'":2})");
    ASSERT_EQ(violations.size(), 2U);
    EXPECT_EQ(violations[0].pointer, "/a~1b~0'");
    EXPECT_EQ(violations[0].message, "unknown property 'a/b~''");
    EXPECT_EQ(violations[1].pointer, "/it's");
    EXPECT_EQ(violations[1].message, "unknown property 'it's'");
}

TEST_F(AddressServiceTest, IntegersOfAnySizeComeBackAsTheyWere)
{
    const std::string entry =
        R"({"addresses":[{"country":"Freedonia","kind":"home","pincode":12345678901234567890123,"street_name":"Elm Row",)"
        R"("street_number":-98765432109876543210,"unit_number":-0}],"full_name":"x","phone_numbers":[{"area_code":)"
        R"(9223372036854775808,"country_code":18446744073709551616,"kind":"work","local_number":18446744073709551615}]})";
    const auto id = run_task(service.create(entry));
    EXPECT_EQ(run_task(service.get(id))->json, entry);
}

TEST_F(AddressServiceTest, ReadyAsksTheStore)
{
    EXPECT_TRUE(run_task(service.ready()));
}

TEST(Etag, IsStrongQuotedAndDependsOnTheBytes)
{
    const auto a = make_etag("abc");
    EXPECT_EQ(a.front(), '"');
    EXPECT_EQ(a.back(), '"');
    EXPECT_EQ(a, make_etag("abc"));
    EXPECT_NE(a, make_etag("abd"));
}

TEST(IdFormat, OnlyLettersDigitsAndHyphens)
{
    EXPECT_TRUE(is_valid_id("abc-DEF-123"));
    EXPECT_FALSE(is_valid_id(""));
    EXPECT_FALSE(is_valid_id("a_b"));
    EXPECT_FALSE(is_valid_id("a/b"));
    EXPECT_FALSE(is_valid_id("a.b"));
}

}  // namespace
}  // namespace addrservice
