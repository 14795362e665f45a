#include "addrservice/store/store.hpp"

#include "addrservice/hex.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

// Compiled in here: the binary loads no xxHash library.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>

namespace addrservice {

namespace {

constexpr std::uint64_t fnv_prime = 1099511628211ULL;

}  // namespace

std::uint64_t etag_hash(std::string_view bytes, std::uint64_t hash) noexcept
{
    for (const char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= fnv_prime;
    }
    return hash;
}

std::string format_etag(std::uint64_t hash, std::size_t length)
{
    std::string out = "\"";
    append_hex(out, hash, 16);
    // The length makes a collision need equal-sized representations too.
    out += '-';
    out += std::to_string(length);
    out += '"';
    return out;
}

std::string make_etag(std::string_view bytes)
{
    // XXH3 reads eight bytes and more a step; FNV-1a, one byte a multiply, was 5 % of a POST's time (perf).
    return format_etag(XXH3_64bits(bytes.data(), bytes.size()), bytes.size());
}

EntryPtr make_stored_entry(std::string json_text)
{
    auto etag = make_etag(json_text);
    return std::make_shared<const StoredEntry>(StoredEntry{std::move(json_text), std::move(etag)});
}

std::vector<std::pair<std::string, EntryPtr>> make_stored_entries(
    std::vector<std::pair<std::string, std::string>>&& rows)
{
    std::vector<std::pair<std::string, EntryPtr>> entries;
    entries.reserve(rows.size());
    for (auto& [id, json] : rows) {
        entries.emplace_back(std::move(id), make_stored_entry(std::move(json)));
    }
    return entries;
}

void require_valid_id(std::string_view id)
{
    if (!is_valid_id(id)) {
        throw StoreError("invalid id: ids are one or more of [a-zA-Z0-9-]");
    }
}

void require_valid_after(std::string_view after)
{
    if (!after.empty()) {
        require_valid_id(after);
    }
}

bool is_valid_id(std::string_view id) noexcept
{
    return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
}

bool is_json_object(std::string_view text)
{
    // Parsed into room on the stack, as a usual entry fits: checking a row costs no allocation.
    std::array<unsigned char, 4096> room{};
    boost::json::monotonic_resource memory(room.data(), room.size());
    boost::system::error_code ec;
    const auto value = boost::json::parse(text, ec, &memory);
    return !ec && value.is_object();
}

namespace {

/// A strong entity tag as RFC 9110 writes one: visible ASCII but '"' between two '"'. The ETag is sent as
/// a header: a line break in one edited by hand would end the header there.
bool is_strong_etag(std::string_view etag) noexcept
{
    return etag.size() >= 2 && etag.front() == '"' && etag.back() == '"' &&
           std::all_of(etag.begin() + 1, etag.end() - 1, [](char c) { return c > ' ' && c < 0x7f && c != '"'; });
}

}  // namespace

EntryPtr checked_row(std::string_view store, const std::string& id, std::string json, std::string etag)
{
    if (!is_valid_id(id) || !is_json_object(json) || !is_strong_etag(etag)) {
        throw StoreError(std::string(store) + ": the row of id '" + id.substr(0, 64) +
                         "' is not an entry (an id of [a-zA-Z0-9-], a JSON object and a quoted ETag): fix or "
                         "remove it");
    }
    return std::make_shared<const StoredEntry>(StoredEntry{std::move(json), std::move(etag)});
}

}  // namespace addrservice
