#pragma once

#include "addrservice/store/store.hpp"
#include "addrservice/store/store_config.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace addrservice {

class PostgresPool;

/// Entries in one PostgreSQL table, shared by any number of instances. Everything runs on the event loop
/// that io runs: libpq's non-blocking API driven by waits on the connections' sockets, a small pool of
/// connections in pipeline mode (requests started together share round trips), prepared statements with
/// every value bound. A request waits at most timeout_ms for the database (a connection, then its
/// answer) and otherwise fails with StoreUnavailableError; lost connections are re-established in the
/// background with backoff.
class PostgresStore final : public AddressStore {
public:
    /// Connects once, runs the migrations under an advisory lock and counts the entries (on a private loop,
    /// before io serves), then opens the pool on io. Throws StoreOpenError when the connection string is
    /// invalid, the database's schema is newer than this build or the migrations fail, and
    /// StoreUnavailableError when the database cannot be reached or refuses the connection.
    PostgresStore(const StoreConfig& config, boost::asio::io_context& io);
    ~PostgresStore() override;
    PostgresStore(const PostgresStore&) = delete;
    PostgresStore& operator=(const PostgresStore&) = delete;
    PostgresStore(PostgresStore&&) = delete;
    PostgresStore& operator=(PostgresStore&&) = delete;

    Task<void> create(std::string id, EntryPtr entry) override;
    Task<EntryPtr> read(std::string id) override;
    Task<bool> replace(std::string id, EntryPtr entry) override;
    Task<bool> remove(std::string id) override;
    Task<std::vector<std::pair<std::string, EntryPtr>>> list() override;
    /// Each compares in the statement that writes (UPDATE ... AND etag = $2, INSERT ... ON CONFLICT DO
    /// NOTHING), so the row's lock makes the check and the write one step across instances; when no row
    /// changed, a read of the row's ETag says why.
    Task<WriteResult> replace_if(std::string id, std::string expected_etag, EntryPtr entry) override;
    Task<WriteResult> remove_if(std::string id, std::string expected_etag) override;
    Task<WriteResult> create_if_absent(std::string id, EntryPtr entry) override;
    /// Every read and conditional write of it within one timeout_ms.
    Task<ModifyResult> modify(std::string id, Change change) override;
    /// WHERE id > $1 ORDER BY id LIMIT $2 over the primary key, whose COLLATE "C" orders bytewise.
    Task<EntryPage> range(std::string after, std::size_t limit) override;
    Task<bool> ready() override;
    /// This instance's count: the database's at start and at each background refresh, plus this
    /// instance's own creates and removes since.
    [[nodiscard]] std::size_t size() const noexcept override;
    /// "postgres://user@host:port/dbname": never the password.
    [[nodiscard]] std::string describe() const override;

    /// The schema version this build migrates to (and the newest it accepts).
    static constexpr int schema_version = 2;

private:
    std::shared_ptr<PostgresPool> pool_;
};

}  // namespace addrservice
