#include "checks.hpp"

#include "addrservice/store/store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace addrservice::fuzz {

void check_row(std::string_view input)
{
    // The stores' check of a row read back builds no document; it must accept exactly what a full parse
    // reads as one JSON object, with the same options (nesting depth, UTF-8).
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(input, ec);
    const bool object = !ec && parsed.is_object();
    if (is_json_object(input) == object) {
        return;
    }
    std::string parse = "not an object";
    if (object) {
        parse = "an object";
    } else if (ec) {
        parse = ec.message();
    }
    throw Finding(std::string("row: is_json_object says ") + (object ? "no" : "yes") + " where a full parse says " +
                  parse + "\n  text: " + std::string(input.substr(0, 2000)));
}

}  // namespace addrservice::fuzz
