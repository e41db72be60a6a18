// BatchExporter: a bounded lock-free queue (SpanRing), one sending thread,
// retries with backoff. The scheduler's threads only push: no lock, no
// allocation, no formatting; a job attempt's name and attributes are built
// here, on the sending thread, when its batch is taken.

#include "txflow/observe/exporters.hpp"

#include "observe/span_ring.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace txflow::observe {

struct BatchExporter::State {
    explicit State(std::size_t capacity) : ring(capacity) {}
    SpanRing ring;
    std::atomic<bool> stopping{false};  // written under `mutex`; read by export_span() without it
    std::mutex mutex;                   // the sender's sleep, flush() and shutdown()
    std::condition_variable wake;       // the sender: a batch is full, a flush waits, or stop
    std::condition_variable drained;    // flush(): the queue is empty and nothing is in flight
    bool in_flight = false;
    bool flushing = false;
    std::thread thread;
};

BatchExporter::BatchExporter(BatchOptions options) : options_(std::move(options)) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    if (options_.max_attempts == 0) options_.max_attempts = 1;
    state_ = std::make_unique<State>(options_.max_queue);
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
        state_->stopping.store(true, std::memory_order_relaxed);
    }
    state_->wake.notify_all();
    state_->thread.join();
}

template <typename T>
void BatchExporter::enqueue(T&& span) noexcept {
    std::uint64_t enqueued = 0;
    if (options_.max_queue == 0 || state_->stopping.load(std::memory_order_relaxed) ||
        !state_->ring.push(std::forward<T>(span), enqueued)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // Every max_batch-th span wakes the sender (taking the mutex, so the wake
    // cannot fall between its check and its wait); otherwise `interval` does.
    if ((enqueued + 1) % options_.max_batch == 0) {
        { const std::lock_guard lock(state_->mutex); }
        state_->wake.notify_one();
    }
}

void BatchExporter::export_span(Span span) noexcept {
    enqueue(std::move(span));
}

void BatchExporter::export_job_span(JobSpan&& span) noexcept {
    enqueue(std::move(span));
}

bool BatchExporter::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    state_->flushing = true;
    state_->wake.notify_one();
    const bool done =
        state_->drained.wait_for(lock, timeout, [&] { return state_->ring.size() == 0 && !state_->in_flight; });
    state_->flushing = false;
    return done;
}

void BatchExporter::loop() {
    State& s = *state_;
    std::vector<Span> batch;
    QueuedSpan queued;
    std::unique_lock lock(s.mutex);
    for (;;) {
        s.wake.wait_for(lock, options_.interval, [&] {
            // Not `flushing` alone: with nothing queued the thread must sleep, or flush() never gets the lock.
            const std::size_t size = s.ring.size();
            return s.stopping.load(std::memory_order_relaxed) || size >= options_.max_batch ||
                   (s.flushing && size != 0);
        });
        if (s.ring.size() == 0) {
            s.drained.notify_all();
            if (s.stopping.load(std::memory_order_relaxed)) return;
            continue;
        }
        s.in_flight = true;
        lock.unlock();
        batch.clear();
        try {
            while (batch.size() < options_.max_batch && s.ring.pop(queued)) {
                if (auto* job = std::get_if<JobSpan>(&queued)) batch.push_back(job->to_span());
                else batch.push_back(std::move(std::get<Span>(queued)));
            }
        } catch (...) {  // bad_alloc formatting a span: the batch goes as far as it got
        }
        if (batch.empty()) std::this_thread::yield();  // a producer claimed a slot and is still filling it
        bool sent = batch.empty();
        auto backoff = options_.first_backoff;
        for (std::uint32_t attempt = 1; attempt <= options_.max_attempts && !sent; ++attempt) {
            try {
                sent = send(batch);
            } catch (...) {
                sent = false;
            }
            if (!sent && attempt < options_.max_attempts) {
                lock.lock();
                const bool stop = s.wake.wait_for(lock, backoff, [&] { return s.stopping.load(); });
                lock.unlock();
                if (stop) break;  // shutting down: no more waiting on a collector that is down
                backoff *= 2;
            }
        }
        (sent ? exported_ : dropped_).fetch_add(batch.size(), std::memory_order_relaxed);
        lock.lock();
        s.in_flight = false;
        if (s.ring.size() == 0) s.drained.notify_all();
    }
}

}  // namespace txflow::observe
