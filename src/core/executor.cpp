// The worker pool. One mutex guards everything; the hot path takes it once
// per submit and once per task on the worker side (finishing a task and
// taking the next one share a critical section).
//
// Layout: every named queue (a "lane", lane 0 being the default, unlimited
// queue) holds one FIFO per priority level, each a ring buffer that stops
// allocating once it has grown to the peak backlog. A FIFO's head is its
// oldest task, so it is also the one with the highest effective priority
// (base + waited / aging_step). Choosing the next task compares only the heads
// of the eligible lanes' FIFOs: O(levels x lanes), independent of the backlog.
// A lane at its concurrency limit is simply not eligible: its tasks wait
// without holding a worker, and other lanes keep running.

#include "txflow/core/executor.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace txflow {

namespace {

// A growable FIFO ring (power-of-two capacity). Unlike std::deque it does not
// allocate a node every few pushes once it has reached its peak size.
template <class T>
class Ring {
public:
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] T& front() { return buf_[head_]; }

    // The slot of a new last element, to be filled in place (saves a move of a
    // whole T inside the submit critical section).
    T& emplace_back_slot() {
        if (size_ == buf_.size()) grow();
        T& slot = buf_[(head_ + size_) & (buf_.size() - 1)];
        ++size_;
        return slot;
    }
    T pop_front() {
        T out = std::move(buf_[head_]);
        buf_[head_].reset();  // release whatever the moved-from callables still hold
        head_ = (head_ + 1) & (buf_.size() - 1);
        --size_;
        return out;
    }

private:
    void grow() {
        std::vector<T> bigger(buf_.empty() ? 16 : buf_.size() * 2);
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(buf_[(head_ + i) & (buf_.size() - 1)]);
        buf_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<T> buf_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

// Aging needs time at the granularity of aging_step (milliseconds and up), not
// nanoseconds: the coarse monotonic clock (the kernel's last tick, a few ns
// from the vDSO) serves, where steady_clock::now() costs ~25-50 ns on this VM,
// a sixth of a whole submit. Submit and pick() read the same clock.
inline std::int64_t coarse_now_ns() noexcept {
#if defined(CLOCK_MONOTONIC_COARSE)
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
#else
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
#endif
}

struct Entry {
    std::function<void()> run;
    std::function<void()> dropped;
    std::int64_t enqueued_ns = 0;  // coarse_now_ns() at submit
    std::uint64_t seq = 0;         // global submission order: FIFO and "oldest" tie-breaks

    // Cheaper than assigning a fresh Entry{} (no temporary, no move-assign).
    void reset() noexcept {
        run = nullptr;
        dropped = nullptr;
    }
};

struct Lane {
    std::string name;
    std::size_t limit = 0;  // 0: unlimited
    std::size_t running = 0;
    std::size_t size = 0;   // queued, all levels
    Ring<Entry> fifo[kPriorityLevels];

    [[nodiscard]] bool saturated() const { return limit != 0 && running >= limit; }
};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

template <class F>
void call_quietly(F& f) noexcept {
    try {
        f();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a task's exception must not kill its worker
    }
}

}  // namespace

struct Executor::Impl {
    explicit Impl(const ExecutorOptions& o) : options(o) {
        if (options.aging_step.count() <= 0) options.aging_step = std::chrono::milliseconds{1};
        aging_step_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options.aging_step).count();
        lanes.emplace_back();  // kDefaultQueue
    }

    ExecutorOptions options;
    std::int64_t aging_step_ns = 1'000'000;
    mutable std::mutex mutex;
    std::condition_variable work_cv;   // workers wait for eligible work
    std::condition_variable idle_cv;   // wait_idle()
    std::condition_variable space_cv;  // submitters blocked by a full backlog

    std::vector<Lane> lanes;
    std::size_t queued = 0;
    std::size_t running = 0;
    std::uint64_t next_seq = 0;
    std::size_t idle_workers = 0;  // waiting on work_cv
    std::size_t idle_waiters = 0;  // waiting in wait_idle()
    std::size_t space_waiters = 0; // waiting for room in submit()
    std::size_t spinning = 0;      // workers spinning before they sleep (0 or 1)
    bool stopping = false;
    // Bumped (under the mutex) by every submit; idle workers spin on it
    // briefly, without the mutex, before they sleep.
    std::atomic<std::uint64_t> submitted{0};
    static constexpr int kSpins = 2000;

    std::mutex join_mutex;  // serialises shutdown() callers
    std::vector<std::thread> threads;
    std::size_t worker_count = 0;

    // The best eligible head, or false. Caller holds the mutex.
    bool pick(std::size_t& lane_out, int& level_out) {
        bool found = false;
        bool clock_read = false;
        std::int64_t now = 0;
        long long best_eff = 0;
        std::uint64_t best_seq = 0;
        for (std::size_t l = 0; l < lanes.size(); ++l) {
            Lane& lane = lanes[l];
            if (lane.size == 0 || lane.saturated()) continue;
            for (int p = kPriorityLevels - 1; p >= 0; --p) {
                auto& q = lane.fifo[p];
                if (q.empty()) continue;
                const Entry& head = q.front();
                if (!found) {
                    // Remember the first candidate without reading the clock:
                    // with a single candidate (the common case) no time is needed.
                    found = true;
                    lane_out = l;
                    level_out = p;
                    best_seq = head.seq;
                    continue;
                }
                if (!clock_read) {
                    now = coarse_now_ns();
                    clock_read = true;
                    best_eff = effective(lanes[lane_out].fifo[level_out].front(), level_out, now);
                }
                const long long eff = effective(head, p, now);
                if (eff > best_eff || (eff == best_eff && head.seq < best_seq)) {
                    lane_out = l;
                    level_out = p;
                    best_eff = eff;
                    best_seq = head.seq;
                }
            }
        }
        return found;
    }

    [[nodiscard]] long long effective(const Entry& e, int level, std::int64_t now) const {
        const std::int64_t waited = now > e.enqueued_ns ? now - e.enqueued_ns : 0;
        return level + static_cast<long long>(waited / aging_step_ns);
    }

    // Evicts the oldest queued task (any lane, any level); returns its `dropped`.
    std::function<void()> evict_oldest() {
        Lane* best_lane = nullptr;
        int best_level = 0;
        std::uint64_t best_seq = std::numeric_limits<std::uint64_t>::max();
        for (Lane& lane : lanes) {
            if (lane.size == 0) continue;
            for (int p = 0; p < kPriorityLevels; ++p) {
                if (!lane.fifo[p].empty() && lane.fifo[p].front().seq < best_seq) {
                    best_seq = lane.fifo[p].front().seq;
                    best_lane = &lane;
                    best_level = p;
                }
            }
        }
        if (best_lane == nullptr) return {};
        Entry e = best_lane->fifo[best_level].pop_front();
        --best_lane->size;
        --queued;
        return std::move(e.dropped);
    }

    void worker_loop() {
        std::unique_lock lock(mutex);
        for (;;) {
            std::size_t l = 0;
            int p = 0;
            bool spun = false;
            while (!pick(l, p)) {
                if (stopping && queued == 0) return;
                if (!spun && spinning == 0) {
                    // Spin briefly before sleeping: when the backlog runs dry
                    // because workers keep up with a fast submitter, sleeping at
                    // once costs a futex wake and two context switches per task.
                    // One spinner at most (so spinning never crowds out a
                    // submitter on a small machine); while it spins, submit()
                    // does not wake sleepers: the spinner takes the task.
                    spun = true;
                    ++spinning;
                    const std::uint64_t seen = submitted.load(std::memory_order_relaxed);
                    lock.unlock();
                    for (int i = 0; i < kSpins && submitted.load(std::memory_order_relaxed) == seen; ++i) {
                        cpu_relax();
                    }
                    lock.lock();
                    --spinning;
                    continue;
                }
                ++idle_workers;
                work_cv.wait(lock);
                --idle_workers;
                spun = false;
            }
            Lane& lane = lanes[l];
            Entry e = lane.fifo[p].pop_front();
            --lane.size;
            --queued;
            ++lane.running;
            ++running;
            if (space_waiters != 0) space_cv.notify_one();
            // Work left and nobody spinning: wake a sleeper to share it (a
            // submit skipped the wake-up while this worker was spinning).
            const bool wake_peer = queued != 0 && idle_workers != 0 && spinning == 0;
            // During shutdown, workers parked behind a saturated lane must see
            // the backlog run dry, or join() would wait for them forever.
            if (stopping && queued == 0 && idle_workers != 0) work_cv.notify_all();
            lock.unlock();
            if (wake_peer) work_cv.notify_one();

            call_quietly(e.run);
            e.reset();  // the task's captures die outside the lock

            lock.lock();
            Lane& done = lanes[l];  // re-index: queue() may have grown the vector
            const bool was_saturated = done.saturated();
            --done.running;
            --running;
            // A slot freed in a limited lane: its next task is eligible now. This
            // worker takes the best eligible task, which may be another lane's,
            // so wake an idle worker for the lane.
            if (was_saturated && done.size != 0 && idle_workers != 0) work_cv.notify_one();
            if (running == 0 && queued == 0 && idle_waiters != 0) idle_cv.notify_all();
        }
    }
};

Executor::Executor(ExecutorOptions options) : impl_(std::make_unique<Impl>(options)) {
    std::size_t n = impl_->options.workers;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    impl_->worker_count = n;
    impl_->threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i) impl_->threads.emplace_back([impl = impl_.get()] { impl->worker_loop(); });
}

Executor::~Executor() { shutdown(); }

QueueId Executor::queue(std::string_view name, std::size_t max_concurrency) {
    std::lock_guard lock(impl_->mutex);
    auto& lanes = impl_->lanes;
    for (std::size_t i = 1; i < lanes.size(); ++i) {
        if (lanes[i].name == name) {
            const bool raised = max_concurrency == 0 || max_concurrency > lanes[i].limit;
            lanes[i].limit = max_concurrency;
            if (raised && lanes[i].size != 0) impl_->work_cv.notify_all();
            return static_cast<QueueId>(i);
        }
    }
    Lane& lane = lanes.emplace_back();
    lane.name = std::string(name);
    lane.limit = max_concurrency;
    return static_cast<QueueId>(lanes.size() - 1);
}

SubmitResult Executor::submit(Task task) {
    Impl& im = *impl_;
    const std::int64_t now = coarse_now_ns();  // outside the lock
    const auto level = static_cast<std::size_t>(task.priority);
    if (level >= static_cast<std::size_t>(kPriorityLevels)) return SubmitResult::rejected;
    std::function<void()> evicted;
    bool wake = false;
    {
        std::unique_lock lock(im.mutex);
        if (im.stopping) return SubmitResult::stopped;
        if (task.queue >= im.lanes.size()) return SubmitResult::rejected;
        const std::size_t max = im.options.max_backlog;
        if (max != 0 && im.queued >= max) {
            switch (im.options.overflow) {
                case OverflowPolicy::reject:
                    return SubmitResult::rejected;
                case OverflowPolicy::drop_oldest:
                    evicted = im.evict_oldest();
                    break;
                case OverflowPolicy::block:
                    ++im.space_waiters;
                    while (!im.stopping && im.queued >= max) im.space_cv.wait(lock);
                    --im.space_waiters;
                    if (im.stopping) return SubmitResult::stopped;
                    break;
            }
        }
        Lane& lane = im.lanes[task.queue];
        Entry& e = lane.fifo[level].emplace_back_slot();  // an empty slot: pop_front() resets it
        e.run = std::move(task.run);
        e.dropped = std::move(task.dropped);
        e.enqueued_ns = now;
        e.seq = im.next_seq++;
        ++lane.size;
        ++im.queued;
        im.submitted.store(im.submitted.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        wake = im.idle_workers != 0 && im.spinning == 0 && !lane.saturated();
    }
    // Notified after unlocking, so the woken worker does not block on the
    // mutex we still hold. No lost wake-up: a worker only waits after seeing
    // no eligible task under the lock, and counted itself idle before waiting.
    if (wake) im.work_cv.notify_one();
    if (evicted) call_quietly(evicted);
    return SubmitResult::accepted;
}

void Executor::wait_idle() {
    Impl& im = *impl_;
    std::unique_lock lock(im.mutex);
    ++im.idle_waiters;
    im.idle_cv.wait(lock, [&] { return im.queued == 0 && im.running == 0; });
    --im.idle_waiters;
}

void Executor::shutdown() {
    Impl& im = *impl_;
    const std::lock_guard join_lock(im.join_mutex);
    {
        const std::lock_guard lock(im.mutex);
        im.stopping = true;
        im.work_cv.notify_all();
        im.space_cv.notify_all();
    }
    for (auto& t : im.threads) {
        if (t.joinable()) t.join();
    }
    im.threads.clear();
}

std::size_t Executor::queued() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->queued;
}

std::size_t Executor::running() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->running;
}

std::size_t Executor::workers() const { return impl_->worker_count; }

}  // namespace txflow
