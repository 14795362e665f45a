#pragma once
// A fresh, empty directory for one test (or one test binary), removed with the object however the test ends.

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace addrservice::testing {

class TempDir {
public:
    /// /tmp/addrservice-<name>-XXXXXX, made by mkdtemp: new, empty, and only this process's.
    explicit TempDir(const std::string& name)
    {
        std::string pattern = (std::filesystem::temp_directory_path() / ("addrservice-" + name + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
        }
        path_ = pattern;
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    /// Writes text to a file in the directory and returns its path.
    std::filesystem::path write(const std::string& name, std::string_view text) const
    {
        const auto file = path_ / name;
        std::ofstream(file) << text;
        return file;
    }

private:
    std::filesystem::path path_;
};

}  // namespace addrservice::testing
