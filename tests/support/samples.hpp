#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace addrservice::testing {

inline std::filesystem::path source_dir()
{
    return ADDRSERVICE_SOURCE_DIR;
}

inline std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The text of one sample entry under data/addresses.
inline std::string sample(const char* name)
{
    return read_file(source_dir() / "data" / "addresses" / name);
}

/// The sample entries under data/addresses, sorted by file name.
inline std::vector<std::filesystem::path> sample_files()
{
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "data" / "addresses")) {
        if (entry.path().extension() == ".json") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace addrservice::testing
