// What the end-to-end tests share: the binary under test and the README's console sessions.
#pragma once

#include "support/samples.hpp"

#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace addrservice::testing {

/// The built service binary.
inline const std::string binary = ADDRSERVICE_BINARY;

/// A console session of the README, found after its marker: each command (a "\" at a line's end continues
/// it) with the output it is documented to print.
inline std::vector<std::pair<std::string, std::string>> session_steps(const std::string& marker)
{
    const auto readme = read_file(source_dir() / "README.md");
    const auto start = readme.find(marker + "\n```console\n");
    if (start == std::string::npos) {
        return {};
    }
    const auto body_start = readme.find('\n', readme.find("```console", start)) + 1;
    std::istringstream block(readme.substr(body_start, readme.find("\n```\n", body_start) - body_start + 1));
    std::vector<std::pair<std::string, std::string>> steps;
    std::string line;
    bool continued = false;
    while (std::getline(block, line)) {
        if (continued) {
            steps.back().first += "\n" + line;
        } else if (line.starts_with("$ ")) {
            steps.emplace_back(line.substr(2), "");
        } else if (!steps.empty()) {
            steps.back().second += line + "\n";
        }
        continued = line.ends_with("\\");
    }
    return steps;
}

/// Output lines to compare with the documented ones: lines that differ from run to run are left out, ids are
/// replaced by a placeholder.
inline std::vector<std::string> comparable_lines(const std::string& text)
{
    static const std::regex id("[0-9a-f]{32}");
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (!line.starts_with("Date: ") && !line.starts_with("X-Request-ID: ")) {
            lines.push_back(std::regex_replace(line, id, "<id>"));
        }
    }
    return lines;
}

}  // namespace addrservice::testing
