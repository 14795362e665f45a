#include "addrservice/store/postgres_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>
#include <poll.h>

#include <charconv>

namespace addrservice::postgres {

namespace {

using WaitType = boost::asio::posix::descriptor_base::wait_type;
constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

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

std::string sqlstate_of(const Result& result)
{
    return result ? text_or_empty(PQresultErrorField(result.get(), PG_DIAG_SQLSTATE)) : std::string();
}

Result checked(Result result, const std::string& name)
{
    if (!result) {
        throw StoreError(name + ": no result");
    }
    const auto status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
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

std::shared_ptr<Request> Connection::send_prepared(const char* statement, const Params& params)
{
    return enqueue(PQsendQueryPrepared(conn_, statement, params.count(), params.values.data(), params.lengths.data(),
                                       params.formats.data(), 0) == 1);
}

std::shared_ptr<Request> Connection::send_query(const char* sql, const Params& params)
{
    return enqueue(PQsendQueryParams(conn_, sql, params.count(), nullptr, params.values.data(), params.lengths.data(),
                                     params.formats.data(), 0) == 1);
}

std::shared_ptr<Request> Connection::send_prepare(const char* statement, const char* sql)
{
    return enqueue(PQsendPrepare(conn_, statement, sql, 0, nullptr) == 1);
}

bool Connection::input_waiting() const
{
    if (pending_.empty() || PQisBusy(conn_) == 0) {
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
    ++reads_;
    dispatch();
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
    auto pending = std::move(pending_);
    pending_.clear();
    for (const auto& request : pending) {
        request->failure = failure_;
        request->finish();
    }
    closed_event_.cancel();
}

std::shared_ptr<Request> Connection::enqueue(bool sent)
{
    auto request = std::make_shared<Request>(executor_);
    request->reads_at_send = reads_;
    pending_.push_back(request);
    if (!sent || PQpipelineSync(conn_) != 1) {
        close(one_line(PQerrorMessage(conn_)));
        return request;
    }
    flush();
    return request;
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
    while (conn_ != nullptr && !pending_.empty() && PQisBusy(conn_) == 0) {
        Result result(PQgetResult(conn_));
        const auto& front = pending_.front();
        if (!result) {
            if (front->statement_ended) {
                const auto why = PQstatus(conn_) == CONNECTION_BAD ? one_line(PQerrorMessage(conn_))
                                                                   : std::string("results out of step");
                close(why);
                return;
            }
            front->statement_ended = true;
            continue;
        }
        const auto status = PQresultStatus(result.get());
        if (status == PGRES_PIPELINE_SYNC) {
            const auto request = front;
            pending_.pop_front();
            request->finish();
        } else if (!front->result || PQresultStatus(front->result.get()) == PGRES_TUPLES_OK ||
                   PQresultStatus(front->result.get()) == PGRES_COMMAND_OK) {
            front->result = std::move(result);  // the first error is kept
        }
    }
}

Task<void> connect(std::shared_ptr<Connection> connection, std::shared_ptr<const ConnectOptions> options,
                   Deadline deadline)
{
    connection->start(*options);
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
        const auto why = "no answer within " + timeout_text(deadline.budget);
        if (connection->reads() == request->reads_at_send) {
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
