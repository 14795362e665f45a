#include "server/list_query.hpp"

#include "addrservice/hex.hpp"
#include "addrservice/store/store.hpp"

#include <charconv>
#include <optional>
#include <utility>

namespace addrservice::http {

namespace {

/// A query component with its %XX escapes decoded; nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) {
            return std::nullopt;
        }
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

/// An integer from 1 to max_page written in decimal digits only.
std::optional<std::size_t> parse_limit(std::string_view text, std::size_t max_page)
{
    std::size_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < 1 || value > max_page) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

ListQuery parse_list_query(std::string_view target, std::size_t max_page)
{
    ListQuery query;
    std::vector<QueryProblem> problems;
    const auto mark = target.find('?');
    auto rest = mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
    bool seen_limit = false;
    bool seen_after = false;
    const auto problem = [&problems](const char* parameter, std::string message) {
        problems.push_back(QueryProblem{parameter, std::move(message)});
    };
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const auto equals = pair.find('=');
        const auto name = percent_decode(pair.substr(0, equals));
        const auto value =
            percent_decode(equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1));
        if (name == "limit") {
            if (std::exchange(seen_limit, true)) {
                problem("limit", "must be given once");
                continue;
            }
            query.limit = value ? parse_limit(*value, max_page) : std::nullopt;
            if (!query.limit) {
                problem("limit", "must be an integer from 1 to " + std::to_string(max_page));
            }
        } else if (name == "after") {
            if (std::exchange(seen_after, true)) {
                problem("after", "must be given once");
                continue;
            }
            if (!value || !is_valid_id(*value)) {
                problem("after", "must be one or more of [a-zA-Z0-9-]");
                continue;
            }
            query.after = *value;
        }
    }
    if (!problems.empty()) {
        throw InvalidQueryError(std::move(problems));
    }
    return query;
}

std::string next_page_target(std::size_t limit, std::string_view last_id)
{
    std::string target = "/addresses?limit=" + std::to_string(limit) + "&after=";
    target += last_id;  // ids are [a-zA-Z0-9-]+: nothing to escape
    return target;
}

}  // namespace addrservice::http
