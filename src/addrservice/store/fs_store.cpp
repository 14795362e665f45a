#include "addrservice/store/fs_store.hpp"

#include "addrservice/store/store.hpp"
#include "addrservice/store/threaded_store_impl.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>

namespace addrservice {

namespace {

constexpr std::string_view suffix = ".json";
constexpr std::string_view temp_prefix = ".";
constexpr std::string_view temp_suffix = ".json.tmp";

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error)
{
    throw StoreError("fs: " + what + " '" + path.string() +
                     "': " + std::strerror(error));  // NOLINT(concurrency-mt-unsafe)
}

/// A file descriptor, closed on scope exit.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

void fsync_directory(const std::filesystem::path& directory)
{
    const Fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        fail("cannot sync directory", directory, errno);
    }
}

/// True for the errors that mean no file has this name: a name too long for any file is one too.
bool is_no_such_file(int error) noexcept
{
    return error == ENOENT || error == ENAMETOOLONG;
}

/// The longest file name the directory's file system allows, in bytes.
std::size_t longest_name_in(const std::filesystem::path& directory) noexcept
{
    const long longest = ::pathconf(directory.c_str(), _PC_NAME_MAX);
    return longest > 0 ? static_cast<std::size_t>(longest) : NAME_MAX;
}

/// True when an entry's file is there: a regular file (a symbolic link or a directory with the name is no
/// entry, as for reads).
bool file_exists(const std::filesystem::path& path)
{
    struct stat status {};
    if (::lstat(path.c_str(), &status) == 0) {
        return S_ISREG(status.st_mode);
    }
    if (is_no_such_file(errno)) {
        return false;
    }
    fail("cannot look up", path, errno);
}

/// After an entry's file was not found: throws unless the directory is still there, so that an entry in a
/// directory moved or removed from under the store is an error (500), never "not found" (404).
void require_directory(const std::filesystem::path& directory)
{
    struct stat status {};
    if (::stat(directory.c_str(), &status) != 0) {
        fail("cannot find the directory", directory, errno);
    }
    if (!S_ISDIR(status.st_mode)) {
        fail("cannot find the directory", directory, ENOTDIR);
    }
}

/// A temporary file being written, removed unless it was renamed into place.
class TempFile {
public:
    explicit TempFile(std::filesystem::path path) : path_(std::move(path)) {}
    ~TempFile()
    {
        if (!renamed_) {
            ::unlink(path_.c_str());  // if this fails too, the next start removes it
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    TempFile(TempFile&&) = delete;
    TempFile& operator=(TempFile&&) = delete;

    void rename_onto(const std::filesystem::path& target)
    {
        if (::rename(path_.c_str(), target.c_str()) != 0) {
            fail("cannot rename onto", target, errno);
        }
        renamed_ = true;
    }

private:
    std::filesystem::path path_;
    bool renamed_ = false;
};

/// A file edited by hand into something else is not served as an entry: the service promises JSON.
void require_json_object(std::string_view text, const std::filesystem::path& path)
{
    if (!is_json_object(text)) {
        throw StoreError("fs: '" + path.string() + "' does not hold a JSON object (edited by hand?): fix or remove it");
    }
}

/// The text of an entry's file, or nothing when no entry has the name: no such file, or one that is not a
/// regular file. A symbolic link is not followed (the directory holds the book, not links out of it), and
/// a FIFO is not waited on.
std::optional<std::string> read_whole(const std::filesystem::path& path)
{
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (fd.get() < 0) {
        if (is_no_such_file(errno) || errno == ELOOP) {
            return std::nullopt;
        }
        fail("cannot read", path, errno);
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) {
        fail("cannot read", path, errno);
    }
    if (!S_ISREG(status.st_mode)) {
        return std::nullopt;
    }
    std::string text;
    std::array<char, 65536> chunk{};
    for (;;) {
        const auto n = ::read(fd.get(), chunk.data(), chunk.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("cannot read", path, errno);
        }
        if (n == 0) {
            require_json_object(text, path);
            return text;
        }
        text.append(chunk.data(), static_cast<std::size_t>(n));
    }
}

bool ends_with(std::string_view text, std::string_view tail)
{
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

}  // namespace

FsStore::FsStore(std::string directory)
    : name_(std::move(directory)), directory_(name_), thread_(std::make_unique<StoreThread>())
{
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec) {
        throw StoreError("fs: cannot create directory '" + name_ + "': " + ec.message());
    }
    if (::access(directory_.c_str(), W_OK | X_OK) != 0) {
        fail("directory is not writable:", directory_, errno);
    }
    // Before anything is read or removed: a temporary file here may be another store's write in progress.
    lock_ = std::make_unique<DirectoryLock>(directory_, name_);
    longest_name_ = longest_name_in(directory_);
    if (longest_name_ <= temp_prefix.size() + temp_suffix.size()) {
        throw StoreError("fs: file names in '" + name_ + "' may be at most " + std::to_string(longest_name_) +
                         " bytes: too short to hold entries");
    }
    std::size_t count = 0;
    for (const auto& file : std::filesystem::directory_iterator(directory_)) {
        const auto name = file.path().filename().string();
        if (ends_with(name, temp_suffix)) {
            std::filesystem::remove(file.path(), ec);  // left by a write that never finished
        } else if (ends_with(name, suffix) && file.is_regular_file() && !file.is_symlink() &&
                   is_valid_id(name.substr(0, name.size() - suffix.size()))) {
            ++count;
        }
    }
    count_ = count;
}

FsStore::~FsStore() = default;

FsStore::DirectoryLock::DirectoryLock(const std::filesystem::path& directory, const std::string& name)
    : fd_(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
    if (fd_ < 0) {
        fail("cannot open directory", directory, errno);
    }
    // Only a lock another store holds refuses the directory: on a file system that keeps no locks (an NFS
    // mount without its lock service: ENOLCK) the store opens without one.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        ::close(fd_);
        throw StoreError("fs: directory '" + name +
                         "' is in use by another process (the fs store is for one process at a time)");
    }
}

FsStore::DirectoryLock::~DirectoryLock()
{
    ::close(fd_);  // releases the flock
}

bool FsStore::can_hold(const std::string& id) const noexcept
{
    return id.size() + suffix.size() <= longest_name_;
}

std::filesystem::path FsStore::path_for(const std::string& id) const
{
    require_valid_id(id);  // before any path is made from it
    return directory_ / (id + std::string(suffix));
}

std::filesystem::path FsStore::temp_path_for(const std::string& id) const
{
    // Cut to fit beside the longest entry name; writes run one at a time, so ids sharing the cut
    // part never share the file.
    const auto longest_id = longest_name_ - temp_prefix.size() - temp_suffix.size();
    return directory_ / (std::string(temp_prefix) + id.substr(0, longest_id) + std::string(temp_suffix));
}

void FsStore::write_atomically(const std::string& id, const std::string& text) const
{
    const auto target = path_for(id);
    const auto temp_path = temp_path_for(id);
    Fd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        fail("cannot write", temp_path, errno);
    }
    TempFile temp(temp_path);
    std::size_t written = 0;
    while (written < text.size()) {
        const auto n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("cannot write", temp_path, errno);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        fail("cannot sync", temp_path, errno);
    }
    if (::close(fd.release()) != 0) {
        fail("cannot close", temp_path, errno);
    }
    temp.rename_onto(target);
    fsync_directory(directory_);
}

// The blocking work, run on the store's thread.

void FsStore::create_now(const std::string& id, const EntryPtr& entry)
{
    if (!can_hold(id)) {
        throw StoreError("fs: id of " + std::to_string(id.size()) + " characters is too long for a file name in '" +
                         name_ + "' (at most " + std::to_string(longest_name_ - suffix.size()) + ")");
    }
    if (file_exists(path_for(id))) {
        throw StoreError("fs: duplicate id " + id);
    }
    write_atomically(id, entry->json);
    ++count_;
}

EntryPtr FsStore::read_now(const std::string& id) const
{
    if (!can_hold(id)) {
        return nullptr;
    }
    auto text = read_whole(path_for(id));
    if (!text) {
        require_directory(directory_);
        return nullptr;
    }
    return make_stored_entry(std::move(*text));
}

bool FsStore::replace_now(const std::string& id, const EntryPtr& entry) const
{
    if (!can_hold(id)) {
        return false;
    }
    if (!file_exists(path_for(id))) {
        require_directory(directory_);
        return false;
    }
    write_atomically(id, entry->json);
    return true;
}

bool FsStore::remove_now(const std::string& id)
{
    if (!can_hold(id)) {
        return false;
    }
    const auto path = path_for(id);
    if (!file_exists(path)) {
        require_directory(directory_);
        return false;  // a link, directory or FIFO with the name is no entry: left alone
    }
    if (::unlink(path.c_str()) != 0) {
        if (is_no_such_file(errno)) {
            return false;
        }
        fail("cannot remove", path, errno);
    }
    fsync_directory(directory_);
    --count_;
    return true;
}

std::vector<std::pair<std::string, EntryPtr>> FsStore::list_now() const
{
    std::vector<std::pair<std::string, std::string>> found;
    for (const auto& file : std::filesystem::directory_iterator(directory_)) {
        const auto name = file.path().filename().string();
        if (!ends_with(name, suffix)) {
            continue;
        }
        auto id = name.substr(0, name.size() - suffix.size());
        if (!is_valid_id(id)) {
            continue;
        }
        if (auto text = read_whole(file.path())) {  // it may be gone since the directory was read
            found.emplace_back(std::move(id), std::move(*text));
        }
    }
    std::ranges::sort(found, {}, &std::pair<std::string, std::string>::first);
    return make_stored_entries(std::move(found));
}

// Conditional writes: read, compare and write on the store's thread, which does all of this process's
// file work one piece at a time, so nothing of this process comes in between. Another process writing
// the same directory could (the fs store is for one process at a time: --workers refuses it).

WriteResult FsStore::replace_if_now(const std::string& id, const std::string& expected_etag,
                                    const EntryPtr& entry) const
{
    const auto current = read_now(id);
    if (!current) {
        return WriteResult{WriteStatus::not_found, {}};
    }
    if (current->etag != expected_etag) {
        return WriteResult{WriteStatus::precondition_failed, current->etag};
    }
    write_atomically(id, entry->json);
    return WriteResult{};
}

WriteResult FsStore::remove_if_now(const std::string& id, const std::string& expected_etag)
{
    const auto current = read_now(id);
    if (!current) {
        return WriteResult{WriteStatus::not_found, {}};
    }
    if (current->etag != expected_etag) {
        return WriteResult{WriteStatus::precondition_failed, current->etag};
    }
    return remove_now(id) ? WriteResult{} : WriteResult{WriteStatus::not_found, {}};
}

WriteResult FsStore::create_if_absent_now(const std::string& id, const EntryPtr& entry)
{
    if (!can_hold(id)) {
        return WriteResult{WriteStatus::not_found, {}};  // no file can have the name: an id no entry has
    }
    if (const auto current = read_now(id)) {
        return WriteResult{WriteStatus::precondition_failed, current->etag};
    }
    write_atomically(id, entry->json);
    ++count_;
    return WriteResult{};
}

std::vector<std::string> FsStore::ids_after(const std::string& after, std::size_t limit) const
{
    // A directory has no order: every name is read (not the files), and the smallest `limit` of those
    // after `after` kept, in a max-heap of at most that many.
    std::vector<std::string> ids;
    for (const auto& file : std::filesystem::directory_iterator(directory_)) {
        const auto name = file.path().filename().string();
        if (!ends_with(name, suffix)) {
            continue;
        }
        auto id = name.substr(0, name.size() - suffix.size());
        if (!is_valid_id(id) || id <= after || limit == 0) {
            continue;
        }
        // A link, directory or FIFO named like an entry is no entry: it must not take an entry's place.
        if (file.is_symlink() || !file.is_regular_file()) {
            continue;
        }
        if (ids.size() < limit) {
            ids.push_back(std::move(id));
            std::push_heap(ids.begin(), ids.end());
        } else if (id < ids.front()) {
            std::pop_heap(ids.begin(), ids.end());
            ids.back() = std::move(id);
            std::push_heap(ids.begin(), ids.end());
        }
    }
    std::sort_heap(ids.begin(), ids.end());
    return ids;
}

EntryPage FsStore::range_now(const std::string& after, std::size_t limit) const
{
    EntryPage page;
    for (auto& id : ids_after(after, limit)) {
        if (auto text = read_whole(path_for(id))) {  // it may be gone since the directory was read
            auto entry = make_stored_entry(std::move(*text));
            page.emplace_back(std::move(id), std::move(entry));
        }
    }
    return page;
}

bool FsStore::ready_now() const
{
    if (::access(directory_.c_str(), W_OK | X_OK) != 0) {
        return false;
    }
    // A full file system fails every write: no block left for an unprivileged writer, or no inode
    // (where the file system counts them at all).
    struct statvfs space {};
    if (::statvfs(directory_.c_str(), &space) != 0) {
        return false;
    }
    const bool no_blocks = space.f_blocks > 0 && space.f_bavail == 0;
    const bool no_inodes = space.f_files > 0 && space.f_favail == 0;
    return !no_blocks && !no_inodes;
}

template class ThreadedStore<FsStore>;

}  // namespace addrservice
