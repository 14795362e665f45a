#include "addrservice/store/postgres_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>

namespace addrservice::postgres {

namespace {

using WaitType = boost::asio::posix::descriptor_base::wait_type;
constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// The SQLSTATE of a statement that waited for a row lock longer than the server's lock_timeout.
constexpr std::string_view lock_not_available = "55P03";

/// A merged statement's arrays stop growing past this many bytes of values: the next run starts there.
constexpr std::size_t merged_bytes_limit = std::size_t{4} << 20U;

void put_int32(std::string& out, std::uint32_t value)
{
    const std::array<char, 4> bytes{static_cast<char>(value >> 24U), static_cast<char>(value >> 16U),
                                    static_cast<char>(value >> 8U), static_cast<char>(value)};
    out.append(bytes.data(), bytes.size());
}

/// The end of the run of requests from `first` that go as one merged statement: neighbours that name the
/// same merged statement, until their values pass merged_bytes_limit (first + 1 when it names none).
std::size_t end_of_run(const std::vector<std::shared_ptr<Request>>& requests, std::size_t first)
{
    const auto bytes_of = [](const Request& request) {
        std::size_t bytes = 0;
        for (const auto& value : request.values) {
            bytes += value.size();
        }
        return bytes;
    };
    const char* merged = requests[first]->merged;
    auto end = first + 1;
    if (merged == nullptr) {
        return end;
    }
    for (auto bytes = bytes_of(*requests[first]);
         end < requests.size() && requests[end]->merged == merged && bytes < merged_bytes_limit; ++end) {
        bytes += bytes_of(*requests[end]);
    }
    return end;
}

/// Column `column` of the requests as a one-dimensional text[] in PostgreSQL's binary
/// array format: dimensions, a has-nulls flag, the element type, the length and lower bound, then each
/// element's length and bytes, integers in network order.
std::string text_array(std::span<const std::shared_ptr<Request>> requests, std::size_t column)
{
    constexpr std::uint32_t text_type = 25;  // pg_type's oid of text
    std::size_t size = 20;
    for (const auto& request : requests) {
        size += 4 + request->values.at(column).size();
    }
    std::string out;
    out.reserve(size);
    put_int32(out, 1);
    put_int32(out, 0);
    put_int32(out, text_type);
    put_int32(out, static_cast<std::uint32_t>(requests.size()));
    put_int32(out, 1);
    for (const auto& request : requests) {
        const auto& value = request->values.at(column);
        put_int32(out, static_cast<std::uint32_t>(value.size()));
        out += value;
    }
    return out;
}

std::string text_or_empty(const char* text)
{
    return text != nullptr ? std::string(text) : std::string();
}

void ignore_notice(void* /*unused*/, const char* /*message*/) {}

/// Cancels a connection's socket wait when the deadline comes, unless that wait is already over (the
/// handler may run after it).
struct CancelAtDeadline {
    std::shared_ptr<Connection> connection;
    std::shared_ptr<bool> waiting;

    void operator()(const boost::system::error_code& ec) const
    {
        if (!ec && *waiting) {
            connection->socket().cancel();
        }
    }
};

/// Waits until the connection's socket is ready for wait, or the deadline; false when the deadline came
/// first or the connection was closed meanwhile. While connecting, libpq may move to another socket
/// (another address of the host), so the socket is watched for this one wait and then released: libpq
/// owns it, and the loop must stop watching it before libpq closes it.
Task<bool> wait_until(std::shared_ptr<Connection> connection, WaitType wait, Clock::time_point deadline)
{
    auto& socket = connection->socket();
    socket.assign(PQsocket(connection->handle()));
    const auto waiting = std::make_shared<bool>(true);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    timer.async_wait(CancelAtDeadline{connection, waiting});
    co_await socket.async_wait(wait, use_tuple);
    *waiting = false;
    timer.cancel();
    if (socket.is_open()) {
        socket.release();
    }
    co_return Clock::now() < deadline && connection->handle() != nullptr;
}

/// A keyword's value in options, if set.
std::optional<std::string> option_of(const ConnectOptions& options, std::string_view keyword)
{
    const auto found =
        std::find_if(options.begin(), options.end(), [keyword](const auto& option) { return option.first == keyword; });
    return found != options.end() ? std::optional<std::string>(found->second) : std::nullopt;
}

void set_option(ConnectOptions& options, const std::string& keyword, std::string value)
{
    const auto found = std::find_if(options.begin(), options.end(),
                                    [&keyword](const auto& option) { return option.first == keyword; });
    if (found != options.end()) {
        found->second = std::move(value);
    } else {
        options.emplace_back(keyword, std::move(value));
    }
}

/// What libpq would take for keyword: the options' value, else its default (the PG* environment).
std::optional<std::string> effective_option(const ConnectOptions& options, std::string_view keyword)
{
    if (auto value = option_of(options, keyword)) {
        return value;
    }
    std::optional<std::string> fallback;
    PQconninfoOption* defaults = PQconndefaults();
    for (const auto* option = defaults; option != nullptr && option->keyword != nullptr; ++option) {
        if (option->keyword == keyword && option->val != nullptr) {
            fallback = option->val;
        }
    }
    PQconninfoFree(defaults);
    return fallback;
}

std::string join_list(const std::vector<std::string>& items)
{
    std::string text;
    for (std::size_t i = 0; i < items.size(); ++i) {
        text += i == 0 ? "" : ",";
        text += items[i];
    }
    return text;
}

/// Cancels a lookup when the deadline comes, unless it is already over.
struct CancelLookup {
    std::shared_ptr<boost::asio::ip::tcp::resolver> resolver;
    std::shared_ptr<bool> waiting;

    void operator()(const boost::system::error_code& ec) const
    {
        if (!ec && *waiting) {
            resolver->cancel();
        }
    }
};

/// The addresses of a host name, looked up off the loop (Asio's resolver), within the deadline.
Task<std::vector<std::string>> look_up(std::string host, Deadline deadline, std::string name)
{
    const auto executor = co_await boost::asio::this_coro::executor;
    const auto resolver = std::make_shared<boost::asio::ip::tcp::resolver>(executor);
    const auto waiting = std::make_shared<bool>(true);
    boost::asio::steady_timer timer(executor, deadline.at);
    timer.async_wait(CancelLookup{resolver, waiting});
    const auto [ec, results] = co_await resolver->async_resolve(host, "", use_tuple);
    *waiting = false;
    timer.cancel();
    if (ec || results.empty()) {
        const auto why = Clock::now() >= deadline.at ? "no answer within " + timeout_text(deadline.budget)
                                                     : (ec ? ec.message() : std::string("no address"));
        throw StoreUnavailableError(name + ": cannot connect: cannot look up \"" + host + "\": " + why);
    }
    std::vector<std::string> addresses;
    for (const auto& entry : results) {
        addresses.push_back(entry.endpoint().address().to_string());
    }
    co_return addresses;
}

}  // namespace

std::string one_line(std::string_view text)
{
    std::string out;
    bool space = false;
    for (const char c : text) {
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

std::string timeout_text(milliseconds timeout)
{
    return std::to_string(timeout.count()) + " ms";
}

// Connection exceptions, insufficient resources, operator intervention (shutdown, statement_timeout),
// transaction rollbacks, system errors.
bool is_transient(std::string_view sqlstate) noexcept
{
    const auto group = sqlstate.substr(0, 2);
    return group == "08" || group == "53" || group == "57" || group == "40" || group == "58" || sqlstate == "55P03";
}

bool succeeded(const Result& result) noexcept
{
    const auto status = PQresultStatus(result.get());
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

std::string sqlstate_of(const Result& result)
{
    return result ? text_or_empty(PQresultErrorField(result.get(), PG_DIAG_SQLSTATE)) : std::string();
}

Result checked(Result result, const std::string& name)
{
    if (!result) {
        throw StoreError(name + ": no result");
    }
    if (succeeded(result)) {
        return result;
    }
    // The server's own words, without the statement's text and position that libpq's full message adds.
    const char* primary = PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
    const auto message = name + ": " + one_line(primary != nullptr ? primary : PQresultErrorMessage(result.get()));
    if (is_transient(sqlstate_of(result))) {
        throw StoreUnavailableError(message);
    }
    throw StoreError(message);
}

std::string value_of(const Result& result, int row, int column)
{
    return {PQgetvalue(result.get(), row, column), static_cast<std::size_t>(PQgetlength(result.get(), row, column))};
}

std::int64_t integer_of(const Result& result, int row, int column)
{
    const auto text = value_of(result, row, column);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        throw StoreError("postgres: expected an integer, got '" + text + "'");
    }
    return value;
}

Params& Params::bytes(std::string_view value)
{
    values.at(size) = value.data();
    lengths.at(size) = static_cast<int>(value.size());
    formats.at(size) = 1;
    ++size;
    return *this;
}

Params& Params::text(const std::string& value)
{
    values.at(size) = value.c_str();
    formats.at(size) = 0;
    ++size;
    return *this;
}

Deadline deadline_in(milliseconds budget)
{
    return {Clock::now() + budget, budget};
}

Connection::Connection(const boost::asio::any_io_executor& executor)
    : executor_(executor), socket_(executor), closed_event_(executor, Clock::time_point::max())
{
}

Connection::~Connection()
{
    close("the connection was closed");
}

void Connection::start(const ConnectOptions& options)
{
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    for (const auto& [keyword, value] : options) {
        keywords.push_back(keyword.c_str());
        values.push_back(value.c_str());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectStartParams(keywords.data(), values.data(), 0);
    if (conn_ == nullptr) {
        throw StoreUnavailableError("postgres: cannot connect: out of memory");
    }
    name_ = "postgres://" + text_or_empty(PQuser(conn_)) + "@" + text_or_empty(PQhost(conn_)) + ":" +
            text_or_empty(PQport(conn_)) + "/" + text_or_empty(PQdb(conn_));
    PQsetNoticeProcessor(conn_, &ignore_notice, nullptr);
}

void Connection::established()
{
    if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
        throw StoreUnavailableError(name_ + ": " + one_line(PQerrorMessage(conn_)));
    }
    socket_.assign(PQsocket(conn_));
    established_ = true;
}

std::shared_ptr<Request> Connection::send_prepared(const char* statement, const Params& params, const char* merged)
{
    auto request = new_request();
    request->statement = statement;
    request->merged = merged;
    request->count = params.count();
    for (std::size_t i = 0; i < params.size; ++i) {
        request->formats.at(i) = params.formats.at(i);
        request->values.at(i) = params.formats.at(i) == 1
                                    ? std::string(params.values.at(i), static_cast<std::size_t>(params.lengths.at(i)))
                                    : std::string(params.values.at(i));
    }
    gather(request);
    return request;
}

std::shared_ptr<Request> Connection::send_query(const char* sql, const Params& params)
{
    auto request = new_request();
    const bool ok = PQsendQueryParams(conn_, sql, params.count(), nullptr, params.values.data(), params.lengths.data(),
                                      params.formats.data(), 0) == 1;
    sent(alone(request), ok);
    return request;
}

std::shared_ptr<Request> Connection::send_prepare(const char* statement, const char* sql)
{
    auto request = new_request();
    sent(alone(request), PQsendPrepare(conn_, statement, sql, 0, nullptr) == 1);
    return request;
}

bool Connection::input_waiting() const
{
    if (sent_.empty() || PQisBusy(conn_) == 0) {
        return false;
    }
    if (PQsslInUse(conn_) != 0) {
        auto* ssl = static_cast<SSL*>(PQsslStruct(conn_, "OpenSSL"));
        if (ssl != nullptr && SSL_pending(ssl) > 0) {
            return true;
        }
    }
    pollfd watched{PQsocket(conn_), POLLIN, 0};
    return ::poll(&watched, 1, 0) > 0;
}

void Connection::receive()
{
    if (PQconsumeInput(conn_) == 0) {
        close(one_line(PQerrorMessage(conn_)));
        return;
    }
    last_input_ = Clock::now();
    dispatch();
}

Clock::duration Connection::silent_for() const noexcept
{
    if (sent_.empty()) {
        return Clock::duration::zero();
    }
    return Clock::now() - std::max(last_input_, sent_.front().sent_at);
}

void Connection::close(const std::string& why)
{
    if (conn_ == nullptr) {
        return;
    }
    if (failure_.empty()) {
        failure_ = why;
    }
    if (socket_.is_open()) {
        socket_.release();  // cancels the waits; the socket is libpq's to close
    }
    PQfinish(conn_);
    conn_ = nullptr;
    established_ = false;
    auto gathered = std::move(gathered_);
    gathered_.clear();
    auto sent = std::move(sent_);
    sent_.clear();
    in_flight_ = 0;
    const auto fail = [this](const std::shared_ptr<Request>& request) {
        request->failure = failure_;
        request->finish();
    };
    std::for_each(gathered.begin(), gathered.end(), fail);
    for (const auto& batch : sent) {
        std::for_each(batch.requests.begin(), batch.requests.end(), fail);
    }
    closed_event_.cancel();
}

std::shared_ptr<Request> Connection::new_request()
{
    ++in_flight_;
    auto request = std::make_shared<Request>(executor_);
    return request;
}

void Connection::gather(std::shared_ptr<Request> request)
{
    gathered_.push_back(std::move(request));
    if (sent_.empty()) {
        send_gathered_soon();
    }
}

void Connection::send_gathered_soon()
{
    if (!send_posted_) {
        send_posted_ = true;
        boost::asio::post(executor_, [self = shared_from_this()] { self->send_gathered(); });
    }
}

void Connection::send_gathered()
{
    send_posted_ = false;
    if (conn_ == nullptr) {
        return;  // closed meanwhile: close() failed what was gathered
    }
    Batch batch{};
    batch.gathered = true;
    for (auto& request : gathered_) {
        if (request->given_up) {
            --in_flight_;
            request->finish();
        } else {
            batch.requests.push_back(std::move(request));
        }
    }
    gathered_.clear();
    send_batch(std::move(batch));
}

void Connection::send_batch(Batch batch)
{
    if (batch.requests.empty()) {
        return;
    }
    auto& requests = batch.requests;
    std::stable_sort(requests.begin(), requests.end(),
                     [](const auto& a, const auto& b) { return a->key() < b->key(); });
    bool ok = true;
    for (std::size_t first = 0; first < requests.size();) {
        // A run of neighbours that share a merged statement goes as one statement, still in id order.
        const auto end = end_of_run(requests, first);
        const auto& request = *requests[first];
        const auto count = static_cast<std::size_t>(request.count);
        const char* statement = request.statement;
        std::array<std::string, Params::capacity> arrays;
        if (end - first > 1) {
            statement = request.merged;
            const std::span<const std::shared_ptr<Request>> run(requests.data() + first, end - first);
            for (std::size_t i = 0; i < count; ++i) {
                arrays.at(i) = text_array(run, i);
            }
        }
        std::array<const char*, Params::capacity> values{};
        std::array<int, Params::capacity> lengths{};
        for (std::size_t i = 0; i < count; ++i) {
            const auto& value = end - first > 1 ? arrays.at(i) : request.values.at(i);
            values.at(i) = value.c_str();
            lengths.at(i) = static_cast<int>(value.size());
        }
        ok = ok && PQsendQueryPrepared(conn_, statement, request.count, values.data(), lengths.data(),
                                       request.formats.data(), 0) == 1;
        batch.spans.push_back(end - first);
        first = end;
    }
    sent(std::move(batch), ok);
}

void Connection::sent(Batch batch, bool ok)
{
    batch.sent_at = Clock::now();
    sent_.push_back(std::move(batch));
    if (!ok || PQpipelineSync(conn_) != 1) {
        close(one_line(PQerrorMessage(conn_)));
        return;
    }
    flush();
}

void Connection::end_batch()
{
    auto batch = std::move(sent_.front());
    sent_.pop_front();
    if (sent_.empty() && !gathered_.empty()) {
        send_gathered_soon();  // what gathered while this batch ran goes next
    }
    const bool undone = batch.gathered && !std::all_of(batch.requests.begin(), batch.requests.end(),
                                                       [](const auto& request) { return succeeded(request->result); });
    // An entry whose row another session holds: its statements that the failed one aborted would each wait
    // for the lock again, in turn, and hold up every statement sent behind them; they fail with it at once.
    std::vector<std::pair<std::string, std::string>> held;  // id, the server's words
    for (const auto& request : batch.requests) {
        if (sqlstate_of(request->result) == lock_not_available) {
            const char* primary = PQresultErrorField(request->result.get(), PG_DIAG_MESSAGE_PRIMARY);
            held.emplace_back(request->key(), primary != nullptr ? one_line(primary) : std::string("lock timeout"));
        }
    }
    Batch again{};
    again.gathered = true;
    for (auto& request : batch.requests) {
        const auto lock = std::find_if(held.begin(), held.end(),
                                       [&request](const auto& entry) { return entry.first == request->key(); });
        if (undone && !request->given_up && lock != held.end() &&
            PQresultStatus(request->result.get()) == PGRES_PIPELINE_ABORTED) {
            request->failure = lock->second;  // sent again, it would wait for the same lock
            --in_flight_;
            request->finish();
        } else if (undone && !request->given_up &&
                   (request->again || PQresultStatus(request->result.get()) != PGRES_FATAL_ERROR)) {
            request->result.reset();
            if (request->again) {
                request->again = false;
                request->merged = nullptr;
            }
            again.requests.push_back(std::move(request));
        } else {
            --in_flight_;
            request->finish();
        }
    }
    send_batch(std::move(again));
}

void Connection::flush()
{
    if (conn_ == nullptr || writing_) {
        return;
    }
    const int status = PQflush(conn_);
    if (status < 0) {
        close(one_line(PQerrorMessage(conn_)));
    } else if (status == 1) {
        writing_ = true;
        socket_.async_wait(WaitType::wait_write, [self = shared_from_this()](const boost::system::error_code& ec) {
            self->writing_ = false;
            if (!self->usable()) {
                return;
            }
            if (ec) {
                self->close("cannot send: " + ec.message());
                return;
            }
            self->flush();
        });
    }
}

void Connection::dispatch()
{
    while (conn_ != nullptr && !sent_.empty() && PQisBusy(conn_) == 0) {
        Result result(PQgetResult(conn_));
        auto& batch = sent_.front();
        const bool all_ended = batch.position == batch.spans.size();
        if (!result) {
            // The end of one statement's results; none at all before it means the connection broke.
            if (all_ended || !batch.result) {
                close(PQstatus(conn_) == CONNECTION_BAD ? one_line(PQerrorMessage(conn_))
                                                        : std::string("results out of step"));
                return;
            }
            batch.settle();
            continue;
        }
        const auto status = PQresultStatus(result.get());
        if (status == PGRES_PIPELINE_SYNC && all_ended) {
            end_batch();
            continue;
        }
        if (status == PGRES_PIPELINE_SYNC || all_ended) {
            close("results out of step");
            return;
        }
        if (!batch.result || succeeded(batch.result)) {
            batch.result = std::move(result);  // the first error is kept
        }
    }
}

Connection::Batch Connection::alone(std::shared_ptr<Request> request)
{
    Batch batch;
    batch.requests.push_back(std::move(request));
    batch.spans.push_back(1);
    return batch;
}

void Connection::Batch::settle()
{
    const auto span = spans.at(position);
    if (span == 1) {
        requests.at(first)->result = std::move(result);
    } else {
        const bool ok = succeeded(result);
        for (std::size_t i = first; i < first + span; ++i) {
            if (ok) {
                requests.at(i)->result = Result(PQmakeEmptyPGresult(nullptr, PGRES_COMMAND_OK));
            } else {
                requests.at(i)->again = true;
            }
        }
        result.reset();
    }
    first += span;
    ++position;
}

std::vector<std::string> split_list(std::string_view text)
{
    std::vector<std::string> items;
    for (;;) {
        const auto comma = text.find(',');
        items.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) {
            return items;
        }
        text.remove_prefix(comma + 1);
    }
}

std::string describe(const ConnectOptions& options)
{
    const auto user = effective_option(options, "user").value_or("");
    return "postgres://" + user + "@" + effective_option(options, "host").value_or("") + ":" +
           effective_option(options, "port").value_or("") + "/" + effective_option(options, "dbname").value_or(user);
}

Task<ConnectOptions> with_host_addresses(ConnectOptions options, Deadline deadline)
{
    if (effective_option(options, "hostaddr") || effective_option(options, "service")) {
        co_return options;  // addresses given, or hosts named in a service file: left to libpq
    }
    const auto hosts = split_list(effective_option(options, "host").value_or(""));
    const auto ports = split_list(effective_option(options, "port").value_or(""));
    const bool port_per_host = ports.size() > 1;
    if (port_per_host && ports.size() != hosts.size()) {
        co_return options;  // libpq will refuse it, with its own message
    }
    const auto name = describe(options);
    std::vector<std::string> named;
    std::vector<std::string> addresses;
    std::vector<std::string> host_ports;
    bool looked_up = false;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        const auto& host = hosts[i];
        boost::system::error_code not_an_address;
        boost::asio::ip::make_address(host, not_an_address);
        // A socket directory (or the default one) and a literal address need no lookup.
        std::vector<std::string> found{host.empty() || host.front() == '/' || host.front() == '@' ? "" : host};
        if (!host.empty() && host.front() != '/' && host.front() != '@' && not_an_address) {
            found = co_await look_up(host, deadline, name);
            looked_up = true;
        }
        // Each address is tried in turn, as libpq tries every address of a name it looks up itself.
        for (auto& address : found) {
            named.push_back(host);
            addresses.push_back(std::move(address));
            if (port_per_host) {
                host_ports.push_back(ports[i]);
            }
        }
    }
    if (!looked_up) {
        co_return options;
    }
    set_option(options, "host", join_list(named));
    set_option(options, "hostaddr", join_list(addresses));
    if (port_per_host) {
        set_option(options, "port", join_list(host_ports));
    }
    co_return options;
}

Task<void> connect(std::shared_ptr<Connection> connection, std::shared_ptr<const ConnectOptions> options,
                   Deadline deadline)
{
    // libpq would look host names up itself, inside PQconnectStartParams, with a blocking getaddrinfo.
    const auto resolved = co_await with_host_addresses(*options, deadline);
    connection->start(resolved);
    PGconn* conn = connection->handle();
    auto polling = PGRES_POLLING_WRITING;
    while (polling != PGRES_POLLING_OK) {
        if (polling == PGRES_POLLING_FAILED || PQstatus(conn) == CONNECTION_BAD) {
            throw StoreUnavailableError(connection->name() + ": cannot connect: " + one_line(PQerrorMessage(conn)));
        }
        const auto wait = polling == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write;
        const bool in_time = co_await wait_until(connection, wait, deadline.at);
        if (connection->handle() == nullptr) {
            throw StoreUnavailableError(connection->name() + ": " + connection->failure());
        }
        if (!in_time) {
            throw StoreUnavailableError(connection->name() + ": cannot connect: no answer within " +
                                        timeout_text(deadline.budget));
        }
        polling = PQconnectPoll(conn);
    }
    connection->established();
}

Task<void> serve(std::shared_ptr<Connection> connection)
{
    while (connection->usable()) {
        if (!connection->input_waiting()) {
            const auto [ec] = co_await connection->socket().async_wait(WaitType::wait_read, use_tuple);
            if (!connection->usable()) {
                break;
            }
            if (ec) {
                connection->close("cannot receive: " + ec.message());
                break;
            }
        }
        connection->receive();
    }
}

Task<Result> answer(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request, Deadline deadline)
{
    if (!request->done) {
        request->wake.expires_at(deadline.at);
        co_await request->wake.async_wait(use_tuple);
    }
    if (!request->done) {
        request->given_up = true;
        const auto why = "no answer within " + timeout_text(deadline.budget);
        if (connection->silent_for() >= deadline.budget * 9 / 10) {
            connection->close(why);
        }
        throw StoreUnavailableError(connection->name() + ": " + why);
    }
    if (!request->failure.empty()) {
        throw StoreUnavailableError(connection->name() + ": " + request->failure);
    }
    co_return std::move(request->result);
}

Task<Result> execute(std::shared_ptr<Connection> connection, const char* sql, Params params, Deadline deadline)
{
    auto request = connection->send_query(sql, params);
    auto result = co_await answer(connection, std::move(request), deadline);
    co_return checked(std::move(result), connection->name());
}

}  // namespace addrservice::postgres
