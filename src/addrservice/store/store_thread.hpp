#pragma once

#include "addrservice/task.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace addrservice {

/// What a store does around each batch of work on its thread: a database makes the batch one
/// transaction, so that many reads share one snapshot and many writes share one commit (one fsync).
/// The default does nothing around the batch.
class BatchScope {
public:
    BatchScope() = default;
    virtual ~BatchScope() = default;
    BatchScope(const BatchScope&) = delete;
    BatchScope& operator=(const BatchScope&) = delete;
    BatchScope(BatchScope&&) = delete;
    BatchScope& operator=(BatchScope&&) = delete;

    /// Before the first piece of work of a batch of two or more; writes is true when any of them writes.
    virtual void begin(bool /*writes*/) {}
    /// After the last piece; throws when the batch could not be made durable (every piece then fails).
    virtual void commit() {}
    /// After a piece failed: false when that failure ended the batch (the rest must not run in it).
    [[nodiscard]] virtual bool intact() { return true; }
    /// Undoes what the batch did, after a failed commit or a broken batch.
    virtual void rollback() noexcept {}
};

/// Whether a piece of work changes what is stored.
enum class Access { read, write };

/// The thread where a store's blocking work (files, a database) runs. A coroutine awaits each piece of
/// work and resumes on its own executor when it is done; its exceptions reach the awaiting coroutine.
/// Work runs one piece at a time, in the order it was started. Pieces started while the thread was busy
/// run together as one batch inside the store's BatchScope, and their callers resume only once the
/// batch is committed: a caller never sees a write that is not yet durable.
class StoreThread {
public:
    explicit StoreThread(BatchScope* scope = nullptr);
    ~StoreThread();  // runs what is queued, then joins
    StoreThread(const StoreThread&) = delete;
    StoreThread& operator=(const StoreThread&) = delete;
    StoreThread(StoreThread&&) = delete;
    StoreThread& operator=(StoreThread&&) = delete;

    template <typename Work>
    Task<std::invoke_result_t<Work&>> run(Work work, Access access = Access::write)
    {
        using Signature = typename SignatureOf<std::invoke_result_t<Work&>>::type;
        // Named, not a braced temporary: g++ 12 mishandles those as arguments inside a coroutine.
        Initiate<Work> initiate{this, std::move(work), access};
        co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, Signature>(
            std::move(initiate), boost::asio::use_awaitable);
    }

    /// One piece of work and its caller, type-erased for the queue.
    class Job {
    public:
        explicit Job(Access access_) : access(access_) {}
        virtual ~Job() = default;
        Job(const Job&) = delete;
        Job& operator=(const Job&) = delete;
        Job(Job&&) = delete;
        Job& operator=(Job&&) = delete;

        /// Runs the work on the store's thread, keeping its result or its exception.
        virtual void execute() noexcept = 0;
        /// Where the caller resumes.
        [[nodiscard]] virtual boost::asio::any_io_executor executor() const = 0;
        /// Resumes the caller with the result (or error); called on the caller's executor.
        virtual void resume() noexcept = 0;

        Access access;
        std::exception_ptr error;
    };

private:
    /// The completion signature of a piece of work: its exception, then its result (if any).
    template <typename Result>
    struct SignatureOf {
        using type = void(std::exception_ptr, Result);
    };

    template <typename Work, typename Handler>
    class JobFor final : public Job {
    public:
        using Result = std::invoke_result_t<Work&>;
        JobFor(Work work, Handler handler, Access access_)
            : Job(access_), work_(std::move(work)), handler_(std::move(handler))
        {
        }

        void execute() noexcept override
        {
            try {
                if constexpr (std::is_void_v<Result>) {
                    work_();
                } else {
                    result_.emplace(work_());
                }
            } catch (...) {
                error = std::current_exception();
            }
        }

        [[nodiscard]] boost::asio::any_io_executor executor() const override
        {
            return boost::asio::get_associated_executor(handler_);
        }

        void resume() noexcept override
        {
            if constexpr (std::is_void_v<Result>) {
                std::move(handler_)(error);
            } else if (result_) {
                std::move(handler_)(error, std::move(*result_));
            } else {
                std::move(handler_)(error, Result{});  // error is set: the result is not looked at
            }
        }

    private:
        Work work_;
        Handler handler_;
        std::optional<std::conditional_t<std::is_void_v<Result>, int, Result>> result_;
    };

    template <typename Work>
    struct Initiate {
        StoreThread* thread;
        Work work;
        Access access;

        template <typename Handler>
        void operator()(Handler&& handler)
        {
            using Decayed = std::decay_t<Handler>;
            thread->enqueue(
                std::make_unique<JobFor<Work, Decayed>>(std::move(work), std::forward<Handler>(handler), access));
        }
    };

    /// What the callers' threads and the store's thread share.
    struct Queue {
        std::mutex mutex;
        std::condition_variable ready;
        std::vector<std::unique_ptr<Job>> jobs;
        bool stopping = false;
        bool wake_posted = false;
    };

    void enqueue(std::unique_ptr<Job> job);
    void loop();
    void run_batch(std::vector<std::unique_ptr<Job>>& batch);
    static void resume_callers(std::vector<std::unique_ptr<Job>>& batch);

    BatchScope no_scope_;
    BatchScope* scope_;
    std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
    std::thread thread_;
};

template <>
struct StoreThread::SignatureOf<void> {
    using type = void(std::exception_ptr);
};

}  // namespace addrservice
