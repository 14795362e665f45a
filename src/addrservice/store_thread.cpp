#include "addrservice/store_thread.hpp"

#include <algorithm>

namespace addrservice {

namespace {

BatchScope no_scope;

}  // namespace

StoreThread::StoreThread(BatchScope* scope) : scope_(scope != nullptr ? scope : &no_scope)
{
    thread_ = std::thread([this] { loop(); });
}

StoreThread::~StoreThread()
{
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
}

void StoreThread::enqueue(std::unique_ptr<Job> job)
{
    bool wake = false;
    {
        const std::lock_guard lock(mutex_);
        wake = queue_.empty();
        queue_.push_back(std::move(job));
    }
    // The thread only sleeps on an empty queue: one wake-up per batch, not per piece of work.
    if (wake) {
        ready_.notify_one();
    }
}

void StoreThread::loop()
{
    std::vector<std::unique_ptr<Job>> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping, and everything queued has run
            }
            batch.swap(queue_);
        }
        run_batch(batch);
        batch.clear();
    }
}

void StoreThread::run_batch(std::vector<std::unique_ptr<Job>>& batch)
{
    if (batch.size() == 1) {
        batch.front()->execute();
        batch.front()->complete();
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
    for (auto& job : batch) {
        job->complete();
    }
}

}  // namespace addrservice
