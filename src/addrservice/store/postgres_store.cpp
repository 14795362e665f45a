#include "addrservice/store/postgres_store.hpp"

#include "addrservice/store/modify_loop.hpp"
#include "addrservice/store/postgres_connection.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <list>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <string_view>

namespace addrservice {

using postgres::answer;
using postgres::checked;
using postgres::Clock;
using postgres::ClosingAtExit;
using postgres::connect;
using postgres::Connection;
using postgres::ConnectOptions;
using postgres::Deadline;
using postgres::deadline_in;
using postgres::execute;
using postgres::integer_of;
using postgres::milliseconds;
using postgres::Params;
using postgres::Request;
using postgres::Result;
using postgres::serve;
using postgres::split_list;
using postgres::sqlstate_of;
using postgres::timeout_text;
using postgres::value_of;

namespace {

constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// A failed connection attempt is retried after a pause that doubles up to the longest; a connection
// that was lost is retried after the shortest.
constexpr milliseconds first_backoff{100};
constexpr milliseconds longest_backoff{2000};
// The entry count is refreshed at most this often, and never more than a tenth of the time.
constexpr std::chrono::seconds count_refresh_interval{5};
// How long the start-up may wait for the migrations (behind another instance's, under the lock).
constexpr milliseconds migration_timeout{60000};
// The advisory lock that serialises migrations across instances ("addrserv" in ASCII).
constexpr std::int64_t migration_lock = 0x6164647273657276;
// The longest id the table holds: a B-tree key may take about a third of an 8 KiB page (2,704 bytes).
// A longer id is one no entry has, as with the fs store's file names.
constexpr std::size_t longest_id = 2048;
// How often a conditional write is tried again when the entry went back to the expected ETag between
// the write that changed nothing and the read of why.
constexpr int max_conditional_attempts = 8;

/// The value of text as libpq reads a whole number (digits, a sign before them, spaces around), if it is
/// one that an int holds.
std::optional<int> whole_number(std::string_view text)
{
    const auto first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    auto number = text.substr(first, text.find_last_not_of(' ') - first + 1);
    if (number.front() == '+') {
        number.remove_prefix(1);
    }
    int value = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || error != std::errc() || end != number.data() + number.size()) {
        return std::nullopt;
    }
    return value;
}

/// An option as the connection will see it: set by the connection string, or else by a PG* variable
/// (source names it) or libpq's default (source empty, as for the string's own).
struct EffectiveOption {
    std::string keyword;
    std::string value;
    std::string source;
};

/// The options of the string, then for every other option libpq knows the value it would take from the
/// environment or its defaults.
std::vector<EffectiveOption> effective_options(const ConnectOptions& options)
{
    std::vector<EffectiveOption> effective;
    for (const auto& [keyword, value] : options) {
        effective.push_back({keyword, value, ""});
    }
    PQconninfoOption* defaults = PQconndefaults();
    for (const auto* option = defaults; option != nullptr && option->keyword != nullptr; ++option) {
        const std::string_view keyword = option->keyword;
        if (option->val == nullptr ||
            std::any_of(options.begin(), options.end(), [&](const auto& set) { return set.first == keyword; })) {
            continue;
        }
        const bool from_environment = option->envvar != nullptr && std::getenv(option->envvar) != nullptr;
        effective.push_back({option->keyword, option->val, from_environment ? option->envvar : ""});
    }
    PQconninfoFree(defaults);
    return effective;
}

/// Refuses an option: "postgres: sslmode (PGSSLMODE) is not one of ...", "postgres: the port is ...".
[[noreturn]] void refuse(const EffectiveOption& option, std::string_view problem, bool with_article = false)
{
    std::string message = with_article ? "postgres: the " : "postgres: ";
    message += option.keyword;
    if (!option.source.empty()) {
        message += " (";
        message += option.source;
        message += ')';
    }
    message += ' ';
    message += problem;
    throw StoreOpenError(message);
}

void check_port(const EffectiveOption& option)
{
    // One port, or one per host (host=a,b port=5432,5433); an empty one is the default.
    for (const auto& port : split_list(option.value)) {
        // Digits only: libpq would also take " 5432" or "+5432", and name the store with them.
        int number = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
        const bool digits =
            !port.empty() && port.front() != '-' && error == std::errc() && end == port.data() + port.size();
        if (!port.empty() && (!digits || number < 1 || number > 65535)) {
            refuse(option, "is not a number from 1 to 65535", true);
        }
    }
}

bool is_ip_address(std::string_view text)
{
    const std::string address(text);
    std::array<unsigned char, sizeof(in6_addr)> bytes{};
    return ::inet_pton(AF_INET, address.c_str(), bytes.data()) == 1 ||
           ::inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1;
}

/// Hosts, addresses and ports must pair up as libpq pairs them: one port for all, or one per host.
void check_hosts(const std::vector<EffectiveOption>& options)
{
    const auto value_of = [&options](std::string_view keyword) -> std::string_view {
        const auto found =
            std::find_if(options.begin(), options.end(), [&](const auto& o) { return o.keyword == keyword; });
        return found == options.end() ? std::string_view() : std::string_view(found->value);
    };
    const auto host = value_of("host");
    const auto hostaddr = value_of("hostaddr");
    const auto port = value_of("port");
    const auto address_list = hostaddr.empty() ? std::vector<std::string>() : split_list(hostaddr);
    for (const auto& address : address_list) {
        if (!address.empty() && !is_ip_address(address)) {
            throw StoreOpenError("postgres: hostaddr is not a list of IP addresses");
        }
    }
    const auto hosts = host.empty() ? 0 : split_list(host).size();
    const auto addresses = address_list.size();
    const auto counted = [](std::size_t n, const std::string& one, const std::string& many) {
        return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    if (hosts != 0 && addresses != 0 && hosts != addresses) {
        throw StoreOpenError("postgres: host has " + counted(hosts, "name", "names") + " and hostaddr " +
                             counted(addresses, "address", "addresses") + "; they pair up one for one");
    }
    const auto targets = std::max<std::size_t>({hosts, addresses, 1});
    const auto ports = port.empty() ? 0 : split_list(port).size();
    if (ports > 1 && ports != targets) {
        throw StoreOpenError("postgres: port has " + counted(ports, "number", "numbers") + " for " +
                             counted(targets, "host", "hosts") + "; give one for all, or one for each");
    }
}

/// The words libpq 15 takes for an option of a few words, when the option's value is none of them (the TLS
/// versions in any case, or none).
std::optional<std::string_view> unknown_choice(const EffectiveOption& option)
{
    constexpr std::array<std::pair<std::string_view, std::string_view>, 6> choices{{
        {"sslmode", "disable, allow, prefer, require, verify-ca, verify-full"},
        {"gssencmode", "disable, prefer, require"},
        {"channel_binding", "disable, prefer, require"},
        {"target_session_attrs", "any, read-write, read-only, primary, standby, prefer-standby"},
        {"ssl_min_protocol_version", "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"},
        {"ssl_max_protocol_version", "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"},
    }};
    const std::string_view value = option.value;
    const bool any_case = option.keyword.starts_with("ssl_");
    for (const auto& [keyword, words] : choices) {
        if (keyword != option.keyword) {
            continue;
        }
        if (any_case && value.empty()) {
            return std::nullopt;
        }
        for (const auto& listed : split_list(words)) {
            const std::string_view word = std::string_view(listed).substr(listed.starts_with(' ') ? 1 : 0);
            if (any_case ? boost::algorithm::iequals(word, value) : word == value) {
                return std::nullopt;
            }
        }
        return words;
    }
    return std::nullopt;
}

/// libpq checks its options only when it connects, and reports a bad one as a failure to connect, as if
/// the database were down; a control character in the names the store is known by would break the line
/// they are written on. Either is a mistake in the configuration (the string's or the PG* variables'),
/// not an outage: it is reported as one, at once. A value is not quoted, as a mangled URL may have put part
/// of a password there.
void check_options(const ConnectOptions& options)
{
    constexpr std::array<std::string_view, 6> whole_numbers{"connect_timeout",  "keepalives",
                                                            "keepalives_idle",  "keepalives_interval",
                                                            "keepalives_count", "tcp_user_timeout"};
    const auto effective = effective_options(options);
    for (const auto& option : effective) {
        const auto& keyword = option.keyword;
        // The store's name (in logs, metrics and errors) is made of these: a control character decoded
        // from the URL (%0A) would break the one line it is written on.
        if ((keyword == "user" || keyword == "host" || keyword == "dbname") &&
            std::any_of(option.value.begin(), option.value.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
            refuse(option, "holds a control character", true);
        }
        if (keyword == "port") {
            check_port(option);
        } else if (std::find(whole_numbers.begin(), whole_numbers.end(), keyword) != whole_numbers.end() &&
                   !whole_number(option.value)) {
            refuse(option, "is not a whole number from -2147483648 to 2147483647");
        }
        if (const auto words = unknown_choice(option)) {
            refuse(option, "is not one of " + std::string(*words));
        }
    }
    check_hosts(effective);
}

/// The parameters a connection string sets (nothing is looked up yet: the PG* environment and the
/// password file apply when connecting), plus our defaults where it sets none.
ConnectOptions parse_connection_string(const std::string& text)
{
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(text.c_str(), &error);
    if (parsed == nullptr) {
        PQfreemem(error);
        // libpq's reason quotes the text it stumbled on, which may be part of a password.
        throw StoreOpenError("postgres: not a valid libpq connection string (a postgresql:// URI or key=value pairs)");
    }
    ConnectOptions options;
    for (const auto* option = parsed; option->keyword != nullptr; ++option) {
        if (option->val != nullptr) {
            options.emplace_back(option->keyword, option->val);
        }
    }
    PQconninfoFree(parsed);
    check_options(options);
    const auto set_default = [&options](const std::string& keyword, const std::string& value) {
        if (std::none_of(options.begin(), options.end(), [&](const auto& option) { return option.first == keyword; })) {
            options.emplace_back(keyword, value);
        }
    };
    set_default("application_name", "addrservice");
    set_default("client_encoding", "UTF8");  // entries are UTF-8 and come back byte for byte
    return options;
}

/// The options of the pool's connections: the server gives up waiting for a row lock after a quarter of
/// the request's timeout and ends any statement after three quarters of it, so that a statement held by a
/// lock fails by itself, answered in time, and the statements of its batch and of the batches behind it
/// are sent again and answered within their own time, even when the next batch waits for the same lock
/// (the connection string's own options come after, so that they win).
ConnectOptions with_statement_timeout(ConnectOptions options, milliseconds timeout)
{
    const auto lock_timeout = std::max<milliseconds::rep>(1, timeout.count() / 4);
    const auto server_timeout = std::max<milliseconds::rep>(1, timeout.count() * 3 / 4);
    std::string server_options =
        "-c lock_timeout=" + std::to_string(lock_timeout) + " -c statement_timeout=" + std::to_string(server_timeout);
    const auto own =
        std::find_if(options.begin(), options.end(), [](const auto& option) { return option.first == "options"; });
    if (own != options.end()) {
        own->second = server_options + " " + own->second;
    } else {
        options.emplace_back("options", std::move(server_options));
    }
    return options;
}

/// The prepared statements of every pool connection.
enum class Statement : std::uint8_t {
    insert,
    select,
    update,
    erase,
    list,
    count,
    ping,
    insert_if_absent,
    update_if,
    erase_if,
    etag_of,
    page,
    insert_many
};

struct StatementText {
    const char* name;
    const char* sql;
};

constexpr std::array<StatementText, 13> statements{{
    {"addrservice_insert", "INSERT INTO addrservice_entries (id, etag, json) VALUES ($1, $2, $3)"},
    {"addrservice_select", "SELECT json, etag FROM addrservice_entries WHERE id = $1"},
    {"addrservice_update", "UPDATE addrservice_entries SET etag = $2, json = $3 WHERE id = $1"},
    {"addrservice_delete", "DELETE FROM addrservice_entries WHERE id = $1"},
    {"addrservice_list", "SELECT id, json, etag FROM addrservice_entries ORDER BY id"},
    {"addrservice_count", "SELECT count(*) FROM addrservice_entries"},
    {"addrservice_ping", "SELECT 1"},
    // Conditional writes compare in the statement that writes: under the row's lock, across instances.
    {"addrservice_insert_if_absent",
     "INSERT INTO addrservice_entries (id, etag, json) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"},
    {"addrservice_update_if", "UPDATE addrservice_entries SET etag = $3, json = $4 WHERE id = $1 AND etag = $2"},
    {"addrservice_delete_if", "DELETE FROM addrservice_entries WHERE id = $1 AND etag = $2"},
    {"addrservice_etag_of", "SELECT etag, json FROM addrservice_entries WHERE id = $1"},
    // A walk of the primary key (COLLATE "C": bytewise) from a given id: a page reads its own rows only.
    {"addrservice_page", "SELECT id, json, etag FROM addrservice_entries WHERE id > $1 ORDER BY id LIMIT $2"},
    // The creates of one batch as one statement (its rows in the arrays' order): the server plans,
    // starts and checks one statement instead of one per row.
    {"addrservice_insert_many",
     "INSERT INTO addrservice_entries (id, etag, json) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"},
}};

const char* name_of(Statement statement)
{
    return statements.at(static_cast<std::size_t>(statement)).name;
}

/// One schema version: the statements that take the previous version to it.
struct Migration {
    int version;
    std::vector<const char*> statements;
};

const std::vector<Migration>& migrations()
{
    static const std::vector<Migration> steps{
        // Ids sort bytewise (COLLATE "C"), as in every store; the entry is its canonical text, kept as
        // text (not jsonb) so that it comes back byte for byte, with its ETag.
        {1,
         {"CREATE TABLE addrservice_entries (id text COLLATE \"C\" PRIMARY KEY, etag text NOT NULL, "
          "json text NOT NULL)"}},
        // No other writer may store an id the service could not serve.
        {2,
         {"ALTER TABLE addrservice_entries ADD CONSTRAINT addrservice_entries_id_check "
          "CHECK (id ~ '^[a-zA-Z0-9-]+$')"}},
    };
    return steps;
}

/// Prepares every statement of the pool (one round trip) and checks each.
Task<void> prepare_statements(std::shared_ptr<Connection> connection, Deadline deadline)
{
    std::vector<std::shared_ptr<Request>> requests;
    requests.reserve(statements.size());
    for (const auto& statement : statements) {
        requests.push_back(connection->send_prepare(statement.name, statement.sql));
    }
    for (auto& request : requests) {
        auto result = co_await answer(connection, std::move(request), deadline);
        checked(std::move(result), connection->name());
    }
}

/// Takes the schema to this build's version in one transaction, under an advisory lock so that instances
/// starting together take turns; a newer schema than this build knows is refused.
Task<void> migrate(std::shared_ptr<Connection> connection, Deadline deadline)
{
    const auto& name = connection->name();
    const Params none;
    co_await execute(connection, "BEGIN", none, deadline);
    const auto lock = std::to_string(migration_lock);
    Params lock_params;
    lock_params.text(lock);
    co_await execute(connection, "SELECT pg_advisory_xact_lock($1)", lock_params, deadline);
    co_await execute(connection, "CREATE TABLE IF NOT EXISTS addrservice_schema (version integer NOT NULL)", none,
                     deadline);
    const auto found =
        co_await execute(connection, "SELECT coalesce(max(version), 0) FROM addrservice_schema", none, deadline);
    const auto version = integer_of(found, 0, 0);
    if (version > PostgresStore::schema_version) {
        co_await execute(connection, "ROLLBACK", none, deadline);
        throw StoreOpenError(name + ": the database has schema version " + std::to_string(version) +
                             "; this build knows versions up to " + std::to_string(PostgresStore::schema_version));
    }
    for (const auto& migration : migrations()) {
        if (migration.version > version) {
            for (const auto* sql : migration.statements) {
                co_await execute(connection, sql, none, deadline);
            }
        }
    }
    if (version != PostgresStore::schema_version) {
        const auto latest = std::to_string(PostgresStore::schema_version);
        Params latest_params;
        latest_params.text(latest);
        co_await execute(connection, "DELETE FROM addrservice_schema", none, deadline);
        co_await execute(connection, "INSERT INTO addrservice_schema (version) VALUES ($1)", latest_params, deadline);
    }
    co_await execute(connection, "COMMIT", none, deadline);
}

/// What the start-up learnt: the store's name and its entry count.
struct Opened {
    std::string name;
    std::size_t count = 0;
};

/// Connects once, migrates and counts; the connection is closed again.
Task<Opened> open_database(std::shared_ptr<const ConnectOptions> options, milliseconds timeout)
{
    const auto executor = co_await boost::asio::this_coro::executor;
    const auto connection = std::make_shared<Connection>(executor);
    const ClosingAtExit closing(connection);
    co_await connect(connection, options, deadline_in(timeout));
    boost::asio::co_spawn(executor, serve(connection), boost::asio::detached);
    const auto deadline = deadline_in(std::max(timeout, migration_timeout));
    co_await migrate(connection, deadline);
    const auto counted =
        co_await execute(connection, statements.at(static_cast<std::size_t>(Statement::count)).sql, Params{}, deadline);
    co_return Opened{connection->name(), static_cast<std::size_t>(integer_of(counted, 0, 0))};
}

}  // namespace

/// The pool: pool_size connections, each kept open by a coroutine of its own that reconnects with
/// backoff; a request takes the open connection with the fewest statements in flight.
class PostgresPool : public std::enable_shared_from_this<PostgresPool> {
public:
    enum class SlotState : std::uint8_t { connecting, usable, down };

    struct Slot {
        explicit Slot(const boost::asio::any_io_executor& executor) : pause(executor) {}
        std::shared_ptr<Connection> connection;
        boost::asio::steady_timer pause;  // between attempts
        SlotState state = SlotState::connecting;
    };

    PostgresPool(const boost::asio::any_io_executor& executor_, const ConnectOptions& options_, std::string name_,
                 const StoreConfig& config, std::size_t count_)
        : executor(executor_),
          options(std::make_shared<const ConnectOptions>(
              with_statement_timeout(options_, milliseconds(config.timeout_ms)))),
          name(std::move(name_)),
          timeout(config.timeout_ms),
          count(count_),
          refresh_timer(executor_)
    {
        slots.reserve(config.pool_size);
        for (std::uint32_t i = 0; i < config.pool_size; ++i) {
            slots.emplace_back(executor_);
        }
    }

    /// The open connection whose batch goes at the end of this turn (one already gathering, else an idle
    /// one), else the one with the fewest statements in flight (they go when its batch is answered), or
    /// null.
    [[nodiscard]] std::shared_ptr<Connection> least_loaded() const
    {
        std::shared_ptr<Connection> idle;
        std::shared_ptr<Connection> best;
        for (const auto& slot : slots) {
            const auto& connection = slot.connection;
            if (slot.state != SlotState::usable || !connection || !connection->usable()) {
                continue;
            }
            if (!connection->busy()) {
                if (connection->gathering()) {
                    return connection;
                }
                idle = idle ? idle : connection;
            }
            if (!best || connection->in_flight() < best->in_flight()) {
                best = connection;
            }
        }
        return idle ? idle : best;
    }

    /// True when every connection's last attempt failed: requests fail at once rather than wait.
    [[nodiscard]] bool all_down() const
    {
        return std::all_of(slots.begin(), slots.end(), [](const Slot& slot) { return slot.state == SlotState::down; });
    }

    /// Wakes the requests waiting for a connection, to look again.
    void wake_waiting()
    {
        for (auto* timer : waiting) {
            timer->cancel();
        }
    }

    void close()
    {
        closed = true;
        for (auto& slot : slots) {
            if (slot.connection) {
                slot.connection->close("the store is closed");
            }
            slot.pause.cancel();
        }
        refresh_timer.cancel();
        wake_waiting();
    }

    boost::asio::any_io_executor executor;
    std::shared_ptr<const ConnectOptions> options;
    std::string name;
    milliseconds timeout;
    std::vector<Slot> slots;
    std::list<boost::asio::steady_timer*> waiting;  // requests waiting for a connection
    std::string last_failure;
    bool closed = false;
    std::atomic<std::size_t> count;
    std::atomic<bool> count_wanted{false};
    boost::asio::steady_timer refresh_timer;
};

namespace {

/// Registers a waiting request's timer with the pool for as long as it waits.
class Waiting {
public:
    Waiting(std::list<boost::asio::steady_timer*>& list, boost::asio::steady_timer* timer)
        : list_(list), position_(list.insert(list.end(), timer))
    {
    }
    ~Waiting() { list_.erase(position_); }
    Waiting(const Waiting&) = delete;
    Waiting& operator=(const Waiting&) = delete;
    Waiting(Waiting&&) = delete;
    Waiting& operator=(Waiting&&) = delete;

private:
    std::list<boost::asio::steady_timer*>& list_;
    std::list<boost::asio::steady_timer*>::iterator position_;
};

/// An open connection, waiting for one until the deadline; StoreUnavailableError when there is none by
/// then, or at once when every connection's last attempt failed.
Task<std::shared_ptr<Connection>> acquire(std::shared_ptr<PostgresPool> pool, Deadline deadline)
{
    for (;;) {
        if (pool->closed) {
            throw StoreUnavailableError(pool->name + ": the store is closed");
        }
        if (auto connection = pool->least_loaded()) {
            co_return connection;
        }
        if (pool->all_down()) {
            throw StoreUnavailableError(pool->last_failure.empty() ? pool->name + ": cannot connect"
                                                                   : pool->last_failure);
        }
        if (Clock::now() >= deadline.at) {
            throw StoreUnavailableError(pool->name + ": no connection within " + timeout_text(deadline.budget));
        }
        boost::asio::steady_timer timer(pool->executor, deadline.at);
        const Waiting waiting(pool->waiting, &timer);
        co_await timer.async_wait(use_tuple);
    }
}

/// One prepared statement on the pool, within the request's deadline; the result is not yet checked.
/// Statements of one batch that share a merged statement go as one of it.
Task<Result> run(std::shared_ptr<PostgresPool> pool, Statement statement, Params params,
                 std::optional<Statement> merged = std::nullopt, std::optional<Deadline> given = std::nullopt)
{
    const auto deadline = given ? *given : deadline_in(pool->timeout);
    const auto connection = co_await acquire(pool, deadline);
    auto request = connection->send_prepared(name_of(statement), params, merged ? name_of(*merged) : nullptr);
    co_return co_await answer(connection, std::move(request), deadline);
}

/// True when the statement changed a row.
bool changed_a_row(const Result& result)
{
    return std::string_view(PQcmdTuples(result.get())) != "0";
}

/// What a conditional write expects of the row it writes.
struct Expected {
    std::string etag;     // the row's ETag, for an update or a delete
    bool absent = false;  // no row at all, for an insert
};

/// Why a conditional write changed no row, from the row as it is now: not_found, precondition_failed
/// with its ETag, or nullopt when the row is as expected again (another writer changed it back in
/// between), so the write may be tried again.
Task<std::optional<WriteResult>> refused(std::shared_ptr<PostgresPool> pool, std::string id, Expected expected,
                                         Deadline deadline)
{
    Params params;
    params.bytes(id);
    auto result = co_await run(pool, Statement::etag_of, params, std::nullopt, deadline);
    const auto found = checked(std::move(result), pool->name);
    if (PQntuples(found.get()) == 0) {
        if (expected.absent) {
            co_return std::nullopt;
        }
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    auto current = value_of(found, 0, 0);
    if (!expected.absent && current == expected.etag) {
        co_return std::nullopt;
    }
    // Its ETag goes out in the 412's header: only that of a row that is an entry.
    co_return WriteResult{WriteStatus::precondition_failed,
                          checked_row("postgres", id, value_of(found, 0, 1), std::move(current))->etag};
}

/// Runs a conditional write (one statement that compares and writes) until it writes or its refusal has
/// a reason that holds when read, all of it within one request's timeout.
Task<WriteResult> write_conditionally(std::shared_ptr<PostgresPool> pool, Statement statement, Params params,
                                      std::string id, Expected expected, std::optional<Deadline> given = std::nullopt)
{
    const auto deadline = given ? *given : deadline_in(pool->timeout);
    for (int attempt = 1;; ++attempt) {
        auto result = co_await run(pool, statement, params, std::nullopt, deadline);
        if (changed_a_row(checked(std::move(result), pool->name))) {
            co_return WriteResult{};
        }
        auto why = co_await refused(pool, id, expected, deadline);
        if (why) {
            co_return std::move(*why);
        }
        if (attempt == max_conditional_attempts) {
            throw StoreUnavailableError(pool->name + ": entry " + id + " kept changing under a conditional write");
        }
    }
}

/// Keeps one slot of the pool connected: connect, prepare, serve until the connection ends, again.
Task<void> keep(std::shared_ptr<PostgresPool> pool, std::size_t index)
{
    std::minstd_rand random(std::random_device{}());
    auto backoff = first_backoff;
    while (!pool->closed) {
        auto connection = std::make_shared<Connection>(pool->executor);
        pool->slots[index].connection = connection;
        bool was_usable = false;
        try {
            const auto deadline = deadline_in(pool->timeout);
            co_await connect(connection, pool->options, deadline);
            boost::asio::co_spawn(pool->executor, serve(connection), boost::asio::detached);
            co_await prepare_statements(connection, deadline);
            if (!pool->closed && connection->usable()) {
                pool->slots[index].state = PostgresPool::SlotState::usable;
                was_usable = true;
                backoff = first_backoff;
                pool->wake_waiting();
                co_await connection->closed_event().async_wait(use_tuple);
            }
            pool->last_failure = pool->name + ": " + connection->failure();
        } catch (const std::exception& e) {
            pool->last_failure = e.what();
        }
        connection->close("the connection was closed");
        if (pool->closed) {
            break;
        }
        // A lost connection is retried soon; a failed attempt marks the slot down and backs off.
        pool->slots[index].state = was_usable ? PostgresPool::SlotState::connecting : PostgresPool::SlotState::down;
        pool->wake_waiting();
        const auto pause = was_usable ? first_backoff : backoff;
        backoff = std::min(backoff * 2, longest_backoff);
        // A random share of the pause keeps many instances from reconnecting in step.
        std::uniform_int_distribution<milliseconds::rep> jitter(0, pause.count() / 2);
        pool->slots[index].pause.expires_after(pause + milliseconds(jitter(random)));
        co_await pool->slots[index].pause.async_wait(use_tuple);
    }
}

/// Refreshes the entry count while someone reads it, at most every count_refresh_interval and never
/// more than a tenth of the time (count(*) reads the whole table).
Task<void> refresh_count(std::shared_ptr<PostgresPool> pool)
{
    Clock::duration interval = count_refresh_interval;
    while (!pool->closed) {
        pool->refresh_timer.expires_after(interval);
        co_await pool->refresh_timer.async_wait(use_tuple);
        if (pool->closed) {
            break;
        }
        if (!pool->count_wanted.exchange(false)) {
            continue;
        }
        const auto started = Clock::now();
        try {
            auto result = co_await run(pool, Statement::count, Params{});
            const auto counted = checked(std::move(result), pool->name);
            pool->count = static_cast<std::size_t>(integer_of(counted, 0, 0));
        } catch (const StoreError&) {
            // Kept as it was: the count is refreshed again later.
        }
        interval = std::max<Clock::duration>(count_refresh_interval, 10 * (Clock::now() - started));
    }
}

}  // namespace

PostgresStore::PostgresStore(const StoreConfig& config, boost::asio::io_context& io)
{
    const auto options = parse_connection_string(config.location);
    const milliseconds timeout(config.timeout_ms);
    // The start-up runs to the end before io serves: on a loop of its own, with the same non-blocking
    // machinery as every request.
    boost::asio::io_context startup(1);
    auto opening = boost::asio::co_spawn(
        startup, open_database(std::make_shared<const ConnectOptions>(options), timeout), boost::asio::use_future);
    startup.run();
    Opened opened;
    try {
        opened = opening.get();
    } catch (const StoreUnavailableError&) {
        throw;  // the database cannot be reached: not a matter of configuration
    } catch (const StoreOpenError&) {
        throw;
    } catch (const StoreError& e) {
        throw StoreOpenError(e.what());  // a migration the database refused
    }
    pool_ = std::make_shared<PostgresPool>(io.get_executor(), options, opened.name, config, opened.count);
    for (std::size_t i = 0; i < pool_->slots.size(); ++i) {
        boost::asio::co_spawn(io, keep(pool_, i), boost::asio::detached);
    }
    boost::asio::co_spawn(io, refresh_count(pool_), boost::asio::detached);
}

PostgresStore::~PostgresStore()
{
    pool_->close();
}

Task<void> PostgresStore::create(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        throw StoreError(pool->name + ": id of " + std::to_string(id.size()) + " characters is longer than the " +
                         std::to_string(longest_id) + " this store holds");
    }
    Params params;
    params.bytes(id).bytes(entry->etag).bytes(entry->json);
    auto result = co_await run(pool, Statement::insert, params, Statement::insert_many);
    if (sqlstate_of(result) == "23505") {
        throw StoreError("duplicate id");
    }
    checked(std::move(result), pool->name);
    ++pool->count;
}

namespace {

/// The entry with this (valid, not too long) id, or null, within the deadline.
Task<EntryPtr> read_entry(std::shared_ptr<PostgresPool> pool, std::string id, Deadline deadline)
{
    Params params;
    params.bytes(id);
    auto result = co_await run(pool, Statement::select, params, std::nullopt, deadline);
    const auto found = checked(std::move(result), pool->name);
    if (PQntuples(found.get()) == 0) {
        co_return nullptr;
    }
    co_return checked_row("postgres", id, value_of(found, 0, 0), value_of(found, 0, 1));
}

/// Stores entry under id only while the row's ETag is expected_etag, within the deadline.
Task<WriteResult> replace_entry_if(std::shared_ptr<PostgresPool> pool, std::string id, std::string expected_etag,
                                   EntryPtr entry, Deadline deadline)
{
    Params params;
    params.bytes(id).bytes(expected_etag).bytes(entry->etag).bytes(entry->json);
    Expected expected{expected_etag};  // named: g++ 12 mishandles a braced temporary as a coroutine argument
    co_return co_await write_conditionally(pool, Statement::update_if, params, id, std::move(expected), deadline);
}

/// modify()'s read and conditional write, both within its one deadline.
ReadEntry reads_within(const std::shared_ptr<PostgresPool>& pool, const std::string& id, Deadline deadline)
{
    return [pool, id, deadline] { return read_entry(pool, id, deadline); };
}

WriteIfUnchanged writes_within(const std::shared_ptr<PostgresPool>& pool, const std::string& id, Deadline deadline)
{
    return [pool, id, deadline](std::string read_etag, EntryPtr changed) {
        return replace_entry_if(pool, id, std::move(read_etag), std::move(changed), deadline);
    };
}

}  // namespace

Task<EntryPtr> PostgresStore::read(std::string id)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return nullptr;
    }
    co_return co_await read_entry(pool, std::move(id), deadline_in(pool->timeout));
}

Task<bool> PostgresStore::replace(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return false;
    }
    Params params;
    params.bytes(id).bytes(entry->etag).bytes(entry->json);
    auto result = co_await run(pool, Statement::update, params);
    const auto updated = checked(std::move(result), pool->name);
    co_return std::string_view(PQcmdTuples(updated.get())) != "0";
}

Task<bool> PostgresStore::remove(std::string id)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return false;
    }
    Params params;
    params.bytes(id);
    auto result = co_await run(pool, Statement::erase, params);
    const auto deleted = checked(std::move(result), pool->name);
    const bool removed = std::string_view(PQcmdTuples(deleted.get())) != "0";
    if (removed && pool->count > 0) {
        --pool->count;
    }
    co_return removed;
}

namespace {

/// The entries of rows of (id, json, etag), each checked: a row edited into something that is no entry is
/// an error, never served.
EntryPage entries_of(const Result& rows)
{
    const int count = PQntuples(rows.get());
    EntryPage entries;
    entries.reserve(static_cast<std::size_t>(count));
    for (int row = 0; row < count; ++row) {
        auto id = value_of(rows, row, 0);
        auto entry = checked_row("postgres", id, value_of(rows, row, 1), value_of(rows, row, 2));
        entries.emplace_back(std::move(id), std::move(entry));
    }
    return entries;
}

}  // namespace

Task<std::vector<std::pair<std::string, EntryPtr>>> PostgresStore::list()
{
    const auto pool = pool_;
    auto result = co_await run(pool, Statement::list, Params{});
    const auto rows = checked(std::move(result), pool->name);
    co_return entries_of(rows);
}

Task<WriteResult> PostgresStore::replace_if(std::string id, std::string expected_etag, EntryPtr entry)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    co_return co_await replace_entry_if(pool, std::move(id), std::move(expected_etag), std::move(entry),
                                        deadline_in(pool->timeout));
}

Task<WriteResult> PostgresStore::remove_if(std::string id, std::string expected_etag)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    Params params;
    params.bytes(id).bytes(expected_etag);
    Expected expected{expected_etag};
    auto result = co_await write_conditionally(pool, Statement::erase_if, params, id, std::move(expected));
    if (result.status == WriteStatus::done && pool->count > 0) {
        --pool->count;
    }
    co_return result;
}

Task<WriteResult> PostgresStore::create_if_absent(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return WriteResult{WriteStatus::not_found, {}};  // no row can have it: an id no entry has
    }
    Params params;
    params.bytes(id).bytes(entry->etag).bytes(entry->json);
    Expected absent{{}, true};
    auto result = co_await write_conditionally(pool, Statement::insert_if_absent, params, id, std::move(absent));
    if (result.status == WriteStatus::done) {
        ++pool->count;
    }
    co_return result;
}

Task<ModifyResult> PostgresStore::modify(std::string id, Change change)
{
    require_valid_id(id);
    const auto pool = pool_;
    if (id.size() > longest_id) {
        co_return ModifyResult{WriteStatus::not_found, nullptr};
    }
    // One deadline for the turn and every read and write of every attempt: the request waits at most
    // timeout_ms.
    const auto deadline = deadline_in(pool->timeout);
    const auto turn = co_await modify_turns_.take(id, deadline.at);
    if (!turn) {
        throw StoreUnavailableError(pool->name + ": the changes to this entry before this one took longer than " +
                                    timeout_text(deadline.budget));
    }
    // Named, not temporaries: g++ 12 mishandles a temporary as a coroutine argument.
    auto reading = reads_within(pool, id, deadline);
    auto writing = writes_within(pool, id, deadline);
    co_return co_await modify_in_turn(std::move(change), std::move(reading), std::move(writing));
}

Task<EntryPage> PostgresStore::range(std::string after, std::size_t limit)
{
    require_valid_after(after);
    const auto pool = pool_;
    if (limit == 0) {
        co_return EntryPage{};
    }
    const auto limit_text = std::to_string(std::min<std::size_t>(limit, INT64_MAX));
    Params params;
    params.bytes(after).text(limit_text);
    auto result = co_await run(pool, Statement::page, params);
    const auto rows = checked(std::move(result), pool->name);
    co_return entries_of(rows);
}

Task<bool> PostgresStore::ready()
{
    const auto pool = pool_;
    if (!pool->least_loaded()) {
        co_return false;
    }
    try {
        auto result = co_await run(pool, Statement::ping, Params{});
        checked(std::move(result), pool->name);
    } catch (const StoreError&) {
        co_return false;
    }
    co_return true;
}

std::size_t PostgresStore::size() const noexcept
{
    pool_->count_wanted = true;
    return pool_->count;
}

std::string PostgresStore::describe() const
{
    return pool_->name;
}

}  // namespace addrservice
