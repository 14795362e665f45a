// Replays every seed of fuzz/corpus/<target>/ and every input kept in fuzz/regressions/<target>/ through
// the check its fuzz target runs (fuzz/checks.hpp), one test per file.
#include "checks.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace addrservice::fuzz {
namespace {

using Check = void (*)(std::string_view);

struct Target {
    std::string_view name;
    Check check;
};

constexpr std::array<Target, 5> targets{{
    {"http", &check_http},
    {"body", &check_body},
    {"config", &check_config},
    {"logfmt", &check_logfmt},
    {"row", &check_row},
}};

struct Input {
    Target target;
    std::filesystem::path file;
};

void PrintTo(const Input& input, std::ostream* out)
{
    *out << input.file.lexically_relative(testing::source_dir()).string();
}

/// The files under fuzz/<kind>/<target>/ for every target, sorted.
std::vector<Input> inputs(const char* kind)
{
    std::vector<Input> found;
    for (const auto& target : targets) {
        const auto directory = testing::source_dir() / "fuzz" / kind / target.name;
        if (!std::filesystem::is_directory(directory)) {
            continue;
        }
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(directory)) {
            if (entry.is_regular_file()) {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (auto& file : files) {
            found.push_back({target, std::move(file)});
        }
    }
    return found;
}

/// "<target>_<file name>", with every character a test name cannot hold as '_'.
std::string test_name(const ::testing::TestParamInfo<Input>& info)
{
    std::string name = std::string(info.param.target.name) + "_" + info.param.file.filename().string();
    std::replace_if(
        name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return name;
}

class FuzzInput : public ::testing::TestWithParam<Input> {};

TEST_P(FuzzInput, PassesTheCheckOfItsTarget)
{
    const auto& input = GetParam();
    try {
        input.target.check(testing::read_file(input.file));
    } catch (const Finding& finding) {
        FAIL() << finding.what();
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, FuzzInput, ::testing::ValuesIn(inputs("corpus")), test_name);
INSTANTIATE_TEST_SUITE_P(Regressions, FuzzInput, ::testing::ValuesIn(inputs("regressions")), test_name);

}  // namespace
}  // namespace addrservice::fuzz
