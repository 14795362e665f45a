#pragma once
// A fresh, empty directory for one test (or one test binary), removed with the object however the test ends.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace addrservice::testing {

class TempDir {
public:
    /// /tmp/addrservice-<name>-<pid>-<n>: the pid and a counter keep parallel test binaries and several
    /// directories of one test apart.
    explicit TempDir(const std::string& name)
        : path_(std::filesystem::temp_directory_path() /
                ("addrservice-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(next_number())))
    {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
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

private:
    static unsigned next_number()
    {
        static std::atomic<unsigned> counter{0};
        return counter++;
    }

    std::filesystem::path path_;
};

}  // namespace addrservice::testing
