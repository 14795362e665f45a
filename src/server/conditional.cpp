#include "server/conditional.hpp"

#include <string>

namespace addrservice::http {

namespace {

bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) noexcept
{
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

/// etagc (RFC 9110 section 8.8.3): any visible character but the double quote, or obs-text.
bool is_etag_char(char c) noexcept
{
    const auto byte = static_cast<unsigned char>(c);
    return byte == 0x21 || (byte >= 0x23 && byte != 0x7F);
}

}  // namespace

std::optional<std::vector<EntityTag>> parse_entity_tags(std::string_view value)
{
    std::vector<EntityTag> tags;
    std::size_t at = 0;
    const auto skip = [&value, &at](auto predicate) {
        while (at < value.size() && predicate(value[at])) {
            ++at;
        }
    };
    const auto is_separator = [](char c) { return is_space(c) || c == ','; };
    skip(is_separator);
    while (at < value.size()) {
        EntityTag tag;
        if (value.substr(at, 2) == "W/") {
            tag.weak = true;
            at += 2;
        }
        if (at >= value.size() || value[at] != '"') {
            return std::nullopt;
        }
        const auto close = value.find('"', at + 1);
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        tag.tag = value.substr(at, close + 1 - at);
        const auto inside = tag.tag.substr(1, tag.tag.size() - 2);
        if (!std::all_of(inside.begin(), inside.end(), is_etag_char)) {
            return std::nullopt;
        }
        tags.push_back(tag);
        at = close + 1;
        skip(is_space);
        if (at < value.size() && value[at] != ',') {
            return std::nullopt;  // two tags without a comma between
        }
        skip(is_separator);
    }
    return tags;
}

Precondition write_precondition(std::optional<std::string_view> if_match, std::optional<std::string_view> if_none_match)
{
    Precondition precondition;
    if (if_match && trim(*if_match) != "*") {
        std::vector<std::string> strong;
        if (const auto tags = parse_entity_tags(*if_match)) {
            for (const auto& tag : *tags) {
                if (!tag.weak) {
                    strong.emplace_back(tag.tag);
                }
            }
        }
        precondition.if_match = std::move(strong);
    }
    precondition.if_match_any = if_match && trim(*if_match) == "*";
    precondition.if_none_match_any = if_none_match && trim(*if_none_match) == "*";
    return precondition;
}

}  // namespace addrservice::http
