// BatchExporter: a bounded queue, one sending thread, retries with backoff.

#include "txflow/observe/exporters.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace txflow::observe {

struct BatchExporter::State {
    std::mutex mutex;
    std::condition_variable wake;     // the sender: spans or a flush wait
    std::condition_variable drained;  // flush(): the queue is empty and nothing is in flight
    std::deque<Span> queue;
    bool in_flight = false;
    bool flushing = false;
    bool stopping = false;
    std::thread thread;
};

BatchExporter::BatchExporter(BatchOptions options) : options_(std::move(options)), state_(std::make_unique<State>()) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    if (options_.max_attempts == 0) options_.max_attempts = 1;
    state_->thread = std::thread([this] { loop(); });
}

BatchExporter::~BatchExporter() {
    shutdown();
}

void BatchExporter::shutdown() {
    if (!state_->thread.joinable()) return;
    (void)flush(std::chrono::seconds(5));
    {
        const std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    state_->thread.join();
}

void BatchExporter::export_span(Span span) noexcept {
    {
        const std::lock_guard lock(state_->mutex);
        if (state_->queue.size() >= options_.max_queue || state_->stopping) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        state_->queue.push_back(std::move(span));
        if (state_->queue.size() < options_.max_batch) return;
    }
    state_->wake.notify_one();
}

bool BatchExporter::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    state_->flushing = true;
    state_->wake.notify_one();
    const bool done =
        state_->drained.wait_for(lock, timeout, [&] { return state_->queue.empty() && !state_->in_flight; });
    state_->flushing = false;
    return done;
}

void BatchExporter::loop() {
    std::unique_lock lock(state_->mutex);
    for (;;) {
        state_->wake.wait_for(lock, options_.interval, [&] {
            // Not `flushing` alone: with nothing queued the thread must sleep, or flush() never gets the lock.
            return state_->stopping || state_->queue.size() >= options_.max_batch ||
                   (state_->flushing && !state_->queue.empty());
        });
        if (state_->queue.empty()) {
            state_->drained.notify_all();
            if (state_->stopping) return;
            continue;
        }
        std::vector<Span> batch;
        const std::size_t n = std::min(options_.max_batch, state_->queue.size());
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            batch.push_back(std::move(state_->queue.front()));
            state_->queue.pop_front();
        }
        state_->in_flight = true;
        lock.unlock();
        bool sent = false;
        auto backoff = options_.first_backoff;
        for (std::uint32_t attempt = 1; attempt <= options_.max_attempts && !sent; ++attempt) {
            try {
                sent = send(batch);
            } catch (...) {
                sent = false;
            }
            if (!sent && attempt < options_.max_attempts) {
                lock.lock();
                const bool stop = state_->wake.wait_for(lock, backoff, [&] { return state_->stopping; });
                lock.unlock();
                if (stop) break;  // shutting down: no more waiting on a collector that is down
                backoff *= 2;
            }
        }
        (sent ? exported_ : dropped_).fetch_add(batch.size(), std::memory_order_relaxed);
        lock.lock();
        state_->in_flight = false;
        if (state_->queue.empty()) state_->drained.notify_all();
    }
}

}  // namespace txflow::observe
