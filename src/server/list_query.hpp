#pragma once

#include "addrservice/address_service.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice::http {

/// One query parameter that is wrong, and why.
struct QueryProblem {
    std::string parameter;
    std::string message;

    bool operator==(const QueryProblem&) const = default;
};

/// A list's query parameters are wrong: a 400 that names each of them.
class InvalidQueryError : public std::runtime_error {
public:
    explicit InvalidQueryError(std::vector<QueryProblem> problems)
        : std::runtime_error("Invalid query parameter"), problems_(std::move(problems))
    {
    }

    [[nodiscard]] const std::vector<QueryProblem>& problems() const noexcept { return problems_; }

private:
    std::vector<QueryProblem> problems_;
};

/// The ListQuery of a request target's query (after '?'): `limit`, an integer from 1 to max_page, and
/// `after`, one or more of [a-zA-Z0-9-]; each percent-decoded, each at most once. Other parameters are
/// ignored. Throws InvalidQueryError naming every parameter that is wrong.
ListQuery parse_list_query(std::string_view target, std::size_t max_page);

/// The target of the page after the one that ended at last_id.
std::string next_page_target(std::size_t limit, std::string_view last_id);

}  // namespace addrservice::http
