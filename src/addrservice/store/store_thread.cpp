#include "addrservice/store/store_thread.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

#include <algorithm>

namespace addrservice {

StoreThread::StoreThread(BatchScope* scope) : scope_(scope != nullptr ? scope : &no_scope_)
{
    thread_ = std::thread([this] { loop(); });
}

StoreThread::~StoreThread()
{
    {
        const std::lock_guard lock(queue_->mutex);
        queue_->stopping = true;
    }
    queue_->ready.notify_one();
    thread_.join();
}

void StoreThread::enqueue(std::unique_ptr<Job> job)
{
    auto caller = job->executor();
    bool post_wake = false;
    {
        const std::lock_guard lock(queue_->mutex);
        queue_->jobs.push_back(std::move(job));
        post_wake = !queue_->wake_posted;
        queue_->wake_posted = true;
    }
    // The thread is woken once the caller's loop has run what is ready now: work that many requests
    // start in one turn of the loop becomes one batch and costs one wake-up, not one each.
    if (post_wake) {
        boost::asio::post(caller, [queue = queue_] {
            {
                const std::lock_guard lock(queue->mutex);
                queue->wake_posted = false;
            }
            queue->ready.notify_one();
        });
    }
}

void StoreThread::loop()
{
    std::vector<std::unique_ptr<Job>> batch;
    for (;;) {
        {
            std::unique_lock lock(queue_->mutex);
            queue_->ready.wait(lock, [this] { return queue_->stopping || !queue_->jobs.empty(); });
            if (queue_->jobs.empty()) {
                return;  // stopping, and everything queued has run
            }
            batch.swap(queue_->jobs);
        }
        run_batch(batch);
        resume_callers(batch);
        batch.clear();
    }
}

void StoreThread::resume_callers(std::vector<std::unique_ptr<Job>>& batch)
{
    // One hand-off per caller's executor (normally one for the whole batch), in the order of the work.
    auto first = batch.begin();
    while (first != batch.end()) {
        const auto executor = (*first)->executor();
        auto last = std::find_if(first, batch.end(), [&](const auto& job) { return job->executor() != executor; });
        std::vector<std::unique_ptr<Job>> group(std::make_move_iterator(first), std::make_move_iterator(last));
        // Counted as work of the caller's loop until post() has returned: post wakes the loop after
        // releasing its lock, and a loop out of work may return and its io_context be destroyed while
        // post still signals it.
        const auto caller_busy = boost::asio::prefer(executor, boost::asio::execution::outstanding_work_t::tracked);
        boost::asio::post(executor, [group = std::move(group)]() mutable {
            for (auto& job : group) {
                job->resume();
            }
        });
        first = last;
    }
}

void StoreThread::run_batch(std::vector<std::unique_ptr<Job>>& batch)
{
    if (batch.size() == 1) {
        batch.front()->execute();
        return;
    }
    const bool writes =
        std::any_of(batch.begin(), batch.end(), [](const auto& job) { return job->access == Access::write; });
    std::exception_ptr failure;
    try {
        scope_->begin(writes);
    } catch (...) {
        failure = std::current_exception();
    }
    if (!failure) {
        for (auto& job : batch) {
            job->execute();
            if (job->error && !scope_->intact()) {
                failure = job->error;  // the batch ended with this piece: nothing in it stands
                break;
            }
        }
    }
    if (!failure) {
        try {
            scope_->commit();
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        scope_->rollback();
        for (auto& job : batch) {
            job->error = failure;
        }
    }
}

}  // namespace addrservice
