#include "cluster/pool.hpp"

#include <exception>

#include "cluster/backoff.hpp"

namespace txflow::cluster {

Pool::Pool(Shared& shared, Completer& completer, const std::map<std::string, Handler, std::less<>>& handlers)
    : shared_(shared), completer_(completer), handlers_(handlers) {}

Pool::~Pool() {
    (void)close();
    join();
}

void Pool::start() {
    for (unsigned i = 0; i < shared_.options.concurrency; ++i) threads_.emplace_back([this] { run(); });
}

void Pool::join() {
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
}

void Pool::push(std::vector<store::ClaimedJob> jobs) {
    {
        std::lock_guard lock(mutex_);
        for (auto& j : jobs) waiting_.push_back(std::move(j));
    }
    work_.notify_all();
}

std::size_t Pool::in_flight() const {
    std::lock_guard lock(mutex_);
    return waiting_.size() + running_;
}

std::size_t Pool::waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
}

std::size_t Pool::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

std::vector<store::ClaimedJob> Pool::close() {
    std::vector<store::ClaimedJob> left;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        left.assign(std::make_move_iterator(waiting_.begin()), std::make_move_iterator(waiting_.end()));
        waiting_.clear();
    }
    work_.notify_all();
    return left;
}

bool Pool::wait_idle(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return idle_.wait_until(lock, deadline, [&] { return running_ == 0 && waiting_.empty(); });
}

void Pool::run() {
    std::mt19937_64 rng{std::random_device{}()};
    for (;;) {
        store::ClaimedJob job;
        {
            std::unique_lock lock(mutex_);
            work_.wait(lock, [&] { return closed_ || !waiting_.empty(); });
            if (waiting_.empty()) return;  // closed
            job = std::move(waiting_.front());
            waiting_.pop_front();
            ++running_;
        }
        execute(std::move(job), rng);
        bool wake_producer = false;
        {
            std::lock_guard lock(mutex_);
            --running_;
            if (running_ == 0 && waiting_.empty()) idle_.notify_all();
            wake_producer = waiting_.size() < shared_.options.concurrency;
        }
        if (wake_producer && shared_.maybe_more.load(std::memory_order_relaxed)) shared_.producer_wake.poke();
    }
}

void Pool::execute(store::ClaimedJob row, std::mt19937_64& rng) {
    const Held held{row.id, row.attempt};
    auto handler = handlers_.find(row.kind);
    if (handler == handlers_.end()) {
        const auto delay = backoff_delay(shared_.options.retry_backoff, static_cast<std::uint32_t>(row.attempt),
                                         std::chrono::milliseconds(0), rng);
        shared_.log->error("txflow cluster: job {} has kind \"{}\", which this worker has no handler for", row.id,
                           row.kind);
        completer_.setback({held, false, "no handler for kind \"" + row.kind + "\" on this worker", delay});
        return;
    }
    Job job(std::move(row), shared_.holdings.token(held.id));
    std::string error;
    try {
        handler->second(job);
    } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "exception without a message";
    } catch (...) {
        error = "unknown exception";
    }
    if (!error.empty()) {
        const auto delay = backoff_delay(shared_.options.retry_backoff, static_cast<std::uint32_t>(held.attempt),
                                         std::chrono::milliseconds(0), rng);
        completer_.setback({held, false, std::move(error), delay});
    } else if (auto snooze = job.retry_requested()) {
        completer_.setback({held, true, {}, *snooze});
    } else {
        completer_.complete(held);
    }
}

}  // namespace txflow::cluster
