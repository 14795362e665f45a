#pragma once

// One PostgreSQL connection driven by the event loop: libpq's non-blocking API in pipeline mode, waits
// on its socket. Included by postgres_store.cpp only (it brings libpq and more of Asio).
#include "addrservice/store/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace addrservice::postgres {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// A message on one line: libpq's span several, with tabs.
std::string one_line(std::string_view text);
/// "250 ms".
std::string timeout_text(milliseconds timeout);
/// SQLSTATE classes that say "not now" rather than "never".
bool is_transient(std::string_view sqlstate) noexcept;
/// True when the statement of result succeeded (with or without rows).
bool succeeded(const Result& result) noexcept;
/// The result's SQLSTATE, or "".
std::string sqlstate_of(const Result& result);
/// The result if its statement succeeded; otherwise its error as StoreUnavailableError (when it may pass)
/// or StoreError, the message starting with name.
Result checked(Result result, const std::string& name);
/// A value of a (text-format) result.
std::string value_of(const Result& result, int row, int column);
std::int64_t integer_of(const Result& result, int row, int column);

/// Connection parameters as libpq keywords and values.
using ConnectOptions = std::vector<std::pair<std::string, std::string>>;

/// The values of one statement: bytes of text columns (binary format: no terminator, no escaping), or
/// text for the server to convert (NUL-terminated). The values are not copied: they must outlive the send.
struct Params {
    static constexpr std::size_t capacity = 4;
    std::array<const char*, capacity> values{};
    std::array<int, capacity> lengths{};
    std::array<int, capacity> formats{};
    std::size_t size = 0;

    Params& bytes(std::string_view value);
    Params& text(const std::string& value);
    [[nodiscard]] int count() const noexcept { return static_cast<int>(size); }
};

/// When a request gives up, and its budget (for messages).
struct Deadline {
    Clock::time_point at;
    milliseconds budget;
};

Deadline deadline_in(milliseconds budget);

/// One statement sent on a connection, and what came back for it.
struct Request {
    explicit Request(const boost::asio::any_io_executor& executor) : wake(executor, Clock::time_point::max()) {}

    void finish()
    {
        done = true;
        wake.cancel();
    }

    /// The first value (an entry's id): gathered statements are sent in its order.
    [[nodiscard]] const std::string& key() const noexcept { return values[0]; }

    boost::asio::steady_timer wake;  // its waiter sleeps on it; cancelled when the request finishes
    Result result;                   // the statement's result (its error, when it failed)
    std::string failure;             // why the connection ended before the answer came
    // A gathered statement keeps its own copy of what it sends: it is sent again when another statement
    // of its transaction failed, which undid it.
    const char* statement = nullptr;
    // The statement that does the work of a run of these at once, each column's values bound as one
    // array (binary text[]), or null. Its success is each one's (an empty COMMAND_OK result); when it fails,
    // each is sent again on its own, so that the one that failed reports its own error.
    const char* merged = nullptr;
    std::array<std::string, Params::capacity> values;
    std::array<int, Params::capacity> formats{};
    int count = 0;
    bool given_up = false;  // its waiter stopped waiting: not sent again
    bool again = false;     // its merged statement failed: sent again on its own
    bool done = false;
};

/// One connection to the server in pipeline mode, non-blocking. Prepared statements are gathered into
/// batches: one is sent at the end of the loop's turn when the connection is idle, else when the batch
/// out before it is answered (so batches grow while the server is busy, as in a group commit). A batch
/// goes in the order of its statements' first value (an entry's id, so that batches lock rows in one
/// order and never wait on each other in a cycle), with one sync, so one implicit transaction and one
/// commit for all of them; neighbours in that order that share a merged statement (the creates) go as
/// one statement of it. Results come back in order, and a request finishes when its batch's sync
/// answers (a write is committed by then). When a statement of a batch fails, the transaction undid the
/// others: they are sent again at once, as a batch of their own (not behind what gathered meanwhile,
/// which may hold the same trouble), and only the statement that failed reports its error. Plain SQL
/// and PREPARE are sent at once, each with its own sync.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    explicit Connection(const boost::asio::any_io_executor& executor);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) = delete;
    Connection& operator=(Connection&&) = delete;

    /// Begins connecting (PQconnectStartParams never blocks); the name is known from here on.
    void start(const ConnectOptions& options);
    /// Once connected: non-blocking, in pipeline mode, its socket watched by the loop.
    void established();

    [[nodiscard]] PGconn* handle() const noexcept { return conn_; }
    [[nodiscard]] bool usable() const noexcept { return established_ && conn_ != nullptr; }
    /// postgres://user@host:port/dbname: never the password.
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    /// Requests not finished yet: gathered, or sent and waiting for their sync.
    [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }
    /// True while the next batch is being gathered.
    [[nodiscard]] bool gathering() const noexcept { return !gathered_.empty(); }
    /// True while a batch is out: statements that come meanwhile wait for its answer and go together next.
    [[nodiscard]] bool busy() const noexcept { return !sent_.empty(); }
    /// How long the connection has heard nothing while a batch is out: since the later of its last input
    /// and the sending of the oldest batch out (zero with none out).
    [[nodiscard]] Clock::duration silent_for() const noexcept;
    [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
    boost::asio::posix::stream_descriptor& socket() noexcept { return socket_; }
    /// Cancelled when the connection ends.
    boost::asio::steady_timer& closed_event() noexcept { return closed_event_; }

    /// Gathers a prepared statement into this turn's batch (the values are copied). When merged names a
    /// statement, neighbours in the batch (in id order) that name the same one are sent as one statement of
    /// it, their values in binary arrays (every value must be bytes).
    std::shared_ptr<Request> send_prepared(const char* statement, const Params& params, const char* merged = nullptr);
    /// Sends plain SQL, or a PREPARE, at once and alone: neither is undone with a batch.
    std::shared_ptr<Request> send_query(const char* sql, const Params& params);
    std::shared_ptr<Request> send_prepare(const char* statement, const char* sql);

    /// True when more input may be read at once: the kernel or the TLS layer holds bytes that libpq has
    /// not taken yet (libpq reads at most its buffer's free space, and no new readiness would announce
    /// what is left). Only asked while results are awaited.
    [[nodiscard]] bool input_waiting() const;
    /// Reads what arrived and hands out the finished results.
    void receive();
    /// Ends the connection; every request still waiting fails with why.
    void close(const std::string& why);

private:
    /// Statements sent with one sync, and which of them the results coming in belong to.
    struct Batch {
        std::vector<std::shared_ptr<Request>> requests;
        std::vector<std::size_t> spans;  // how many requests each statement sent stands for, in order
        std::size_t position = 0;        // the statement whose results come next
        std::size_t first = 0;           // its first request
        Result result;                   // its result so far (the first error is kept)
        Clock::time_point sent_at;
        bool gathered = false;  // when one fails, the others are sent again

        /// Hands the statement's result to the requests it stands for and moves on to the next.
        void settle();
    };
    static Batch alone(std::shared_ptr<Request> request);

    std::shared_ptr<Request> new_request();
    void gather(std::shared_ptr<Request> request);
    /// Sends what gathered at the end of this turn of the loop (once, however often asked).
    void send_gathered_soon();
    void send_gathered();
    void send_batch(Batch batch);
    void sent(Batch batch, bool ok);
    void end_batch();
    void flush();
    void dispatch();

    boost::asio::any_io_executor executor_;
    PGconn* conn_ = nullptr;
    boost::asio::posix::stream_descriptor socket_;
    boost::asio::steady_timer closed_event_;
    std::vector<std::shared_ptr<Request>> gathered_;  // this turn's batch, sent at its end
    std::deque<Batch> sent_;
    std::string name_ = "postgres";
    std::string failure_;
    Clock::time_point last_input_;
    std::size_t in_flight_ = 0;
    bool established_ = false;
    bool writing_ = false;
    bool send_posted_ = false;
};

/// Closes a connection when the scope that opened it ends, however it ends.
class ClosingAtExit {
public:
    explicit ClosingAtExit(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}
    ~ClosingAtExit() { connection_->close("the connection was closed"); }
    ClosingAtExit(const ClosingAtExit&) = delete;
    ClosingAtExit& operator=(const ClosingAtExit&) = delete;
    ClosingAtExit(ClosingAtExit&&) = delete;
    ClosingAtExit& operator=(ClosingAtExit&&) = delete;

private:
    std::shared_ptr<Connection> connection_;
};

/// The elements of a comma-separated list, as libpq splits host, hostaddr and port ("" is one empty one).
std::vector<std::string> split_list(std::string_view text);
/// The store's name from connection options and libpq's defaults: postgres://user@host:port/dbname.
std::string describe(const ConnectOptions& options);
/// The options with the hosts' addresses (hostaddr) looked up without blocking the loop; each address of a
/// name becomes an entry of its own (the name stays, for TLS and the password file). Options that give
/// addresses or a service file are left as they are.
Task<ConnectOptions> with_host_addresses(ConnectOptions options, Deadline deadline);
/// Connects within the deadline, without blocking the loop (PQconnectPoll driven by socket waits).
/// Throws StoreUnavailableError naming the connection and libpq's reason.
Task<void> connect(std::shared_ptr<Connection> connection, std::shared_ptr<const ConnectOptions> options,
                   Deadline deadline);
/// Reads the connection's input as it arrives until the connection ends.
Task<void> serve(std::shared_ptr<Connection> connection);
/// The request's result, once its sync has answered (so a write is committed), or StoreUnavailableError
/// when the deadline passes first or the connection ends. A connection silent for nine tenths of the
/// request's budget with a batch out is presumed gone and closed: the server answers a batch within its
/// statement timeout (three quarters of it), and sooner when a lock holds it (a quarter), so a
/// connection that waits behind a held lock is never taken for a lost one.
Task<Result> answer(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request, Deadline deadline);
/// Runs one SQL statement (values bound) on a connection and awaits its checked result.
Task<Result> execute(std::shared_ptr<Connection> connection, const char* sql, Params params, Deadline deadline);

}  // namespace addrservice::postgres
