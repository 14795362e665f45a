#include "addrservice/json_parse.hpp"

#include "addrservice/errors.hpp"

namespace addrservice {

namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_json_body(std::string_view text, std::size_t max_depth)
{
    // The callback sees the depth of the container being opened, counting from zero for the outermost.
    auto limit_depth = [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json& /*value*/) {
        if ((event == nlohmann::json::parse_event_t::object_start ||
             event == nlohmann::json::parse_event_t::array_start) &&
            static_cast<std::size_t>(depth) >= max_depth) {
            throw TooDeep{};
        }
        return true;
    };
    try {
        return nlohmann::json::parse(text, limit_depth);
    } catch (const TooDeep&) {
        throw InvalidJsonError("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    } catch (const nlohmann::json::parse_error& e) {
        throw InvalidJsonError(e.what());
    }
}

}  // namespace addrservice
