// The worker pool. One mutex guards everything; the hot path takes it once
// per submit and once per task on the worker side (finishing a task and
// taking the next one share a critical section).
//
// Layout: every named queue (a "lane", lane 0 being the default, unlimited
// queue) holds one FIFO per priority level, each a chain of fixed blocks from
// a free list that stops allocating once the backlog has reached its peak. A FIFO's head is its
// oldest task, so it is also the one with the highest effective priority
// (base + waited / aging_step). Choosing the next task compares only the heads
// of the eligible lanes' FIFOs: O(levels x lanes), independent of the backlog.
// A lane at its concurrency limit is simply not eligible: its tasks wait
// without holding a worker, and other lanes keep running.
//
// Unbounded backlog (max_backlog 0, the common case): submit() does not take
// the main mutex. It appends to an inbox (a block FIFO of its own) under a
// short inbox lock. A worker, holding the main mutex, moves the whole inbox
// into the lanes' FIFOs before every pick (sequence numbers are assigned there,
// in submission order), so priority order and aging stay exact. A bounded
// backlog keeps the single-mutex path (the inbox stays empty), so reject /
// block / drop_oldest see every queued task.
//
// Sleeping: idle workers wait on work_cv with the inbox lock. A worker counts
// itself a sleeper under both locks after finding nothing to do, and every
// event that may make a task eligible notifies under (or after) the inbox
// lock, so no wake-up is lost.

#include "txflow/core/executor.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace txflow {

namespace {

// Queue storage: FIFOs made of fixed-size blocks taken from a per-executor
// free list. A block whose tasks have all been taken goes back to the list,
// never to the allocator, so once the backlog has reached its peak a run does
// no allocation and touches no new page (besides what std::function itself
// allocates for a large capture). A growable ring would re-copy and re-fault
// its whole buffer at each doubling.
struct Entry {
    std::function<void()> run;
    std::int64_t enqueued_ns = 0;  // coarse_now_ns() at submit
    std::uint64_t seq = 0;         // global submission order: FIFO and "oldest" tie-breaks
};

struct Block {
    static constexpr std::size_t kSlots = 256;
    Entry slots[kSlots];
    // The `dropped` callables, parallel to `slots`; allocated the first time a
    // task in this block has one, so a task without one (the common case)
    // stores 48 bytes, not 80.
    std::unique_ptr<std::function<void()>[]> dropped;
    Block* next = nullptr;
};

class BlockPool {
public:
    BlockPool() = default;
    BlockPool(const BlockPool&) = delete;
    BlockPool& operator=(const BlockPool&) = delete;
    ~BlockPool() {
        while (free_ != nullptr) delete std::exchange(free_, free_->next);
    }
    Block* get() {
        if (free_ == nullptr) return new Block();
        Block* b = std::exchange(free_, free_->next);
        b->next = nullptr;
        return b;
    }
    void put(Block* b) noexcept {
        b->next = free_;
        free_ = b;
    }
    // Moves every free block of `other` into this pool.
    void absorb(BlockPool& other) noexcept {
        while (other.free_ != nullptr) put(std::exchange(other.free_, other.free_->next));
    }

private:
    Block* free_ = nullptr;
};

class Fifo {
public:
    Fifo() = default;
    Fifo(const Fifo&) = delete;
    Fifo& operator=(const Fifo&) = delete;
    Fifo(Fifo&& o) noexcept
        : head_(std::exchange(o.head_, nullptr)),
          tail_(std::exchange(o.tail_, nullptr)),
          head_i_(o.head_i_),
          tail_i_(o.tail_i_),
          size_(std::exchange(o.size_, 0)) {}
    Fifo& operator=(Fifo&&) = delete;
    void swap(Fifo& o) noexcept {
        std::swap(head_, o.head_);
        std::swap(tail_, o.tail_);
        std::swap(head_i_, o.head_i_);
        std::swap(tail_i_, o.tail_i_);
        std::swap(size_, o.size_);
    }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] Entry& front_mut() { return head_->slots[head_i_]; }
    ~Fifo() {
        while (head_ != nullptr) delete std::exchange(head_, head_->next);
    }

    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] const Entry& front() const { return head_->slots[head_i_]; }

    // A fresh slot at the back; `dropped_out` gets the slot for a `dropped`
    // callable when `need_dropped` (allocating the block's array once).
    Entry& push(BlockPool& pool, bool need_dropped, std::function<void()>*& dropped_out) {
        if (tail_ == nullptr) {
            head_ = tail_ = pool.get();
            head_i_ = tail_i_ = 0;
        } else if (tail_i_ == Block::kSlots) {
            tail_->next = pool.get();
            tail_ = tail_->next;
            tail_i_ = 0;
        }
        const std::size_t i = tail_i_++;
        ++size_;
        if (need_dropped) {
            if (!tail_->dropped) tail_->dropped = std::make_unique<std::function<void()>[]>(Block::kSlots);
            dropped_out = &tail_->dropped[i];
        }
        return tail_->slots[i];
    }

    // Moves the head's callables out and advances. Returns the run callable;
    // `dropped` receives the dropped one (if any).
    std::function<void()> pop(BlockPool& pool, std::function<void()>* dropped) {
        Block* b = head_;
        const std::size_t i = head_i_++;
        std::function<void()> out = std::move(b->slots[i].run);
        b->slots[i].run = nullptr;
        if (b->dropped && b->dropped[i]) {
            if (dropped != nullptr) *dropped = std::move(b->dropped[i]);
            b->dropped[i] = nullptr;
        }
        --size_;
        if (size_ == 0) {
            head_i_ = tail_i_ = 0;  // keep the one block: the next push reuses it
        } else if (head_i_ == Block::kSlots) {
            head_ = b->next;
            head_i_ = 0;
            pool.put(b);
        }
        return out;
    }

private:
    Block* head_ = nullptr;
    Block* tail_ = nullptr;
    std::size_t head_i_ = 0;
    std::size_t tail_i_ = 0;
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
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
#endif
}

struct Lane {
    std::string name;
    std::size_t limit = 0;  // 0: unlimited
    std::size_t running = 0;
    std::size_t size = 0;  // queued, all levels
    Fifo fifo[kPriorityLevels];

    [[nodiscard]] bool saturated() const { return limit != 0 && running >= limit; }
};

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
        use_inbox = options.max_backlog == 0;
    }

    ExecutorOptions options;
    std::int64_t aging_step_ns = 1'000'000;
    bool use_inbox = true;  // max_backlog == 0
    mutable std::mutex mutex;
    std::condition_variable idle_cv;   // wait_idle()
    std::condition_variable space_cv;  // submitters blocked by a full backlog

    BlockPool pool;  // declared before `lanes`: the FIFOs return blocks to it
    std::vector<Lane> lanes;
    std::atomic<std::size_t> lane_count{1};  // lanes.size(), for submit() without the mutex
    BlockPool spent;                         // inbox blocks drained, back to inbox_pool at the next drain
    Fifo draining;                           // the stolen inbox
    std::size_t queued = 0;                  // in the lanes (not counting the inbox)
    std::size_t running = 0;
    std::uint64_t next_seq = 0;
    std::size_t idle_waiters = 0;   // waiting in wait_idle()
    std::size_t space_waiters = 0;  // waiting for room in submit()
    bool stopping = false;

    // --- the inbox lock guards what follows (lock order: mutex, then inbox_mutex)
    mutable std::mutex inbox_mutex;
    std::condition_variable work_cv;  // idle workers wait (with inbox_mutex)
    BlockPool inbox_pool;
    Fifo inbox;                               // Entry::seq holds (queue << 2) | level until the drain
    std::atomic<std::size_t> inbox_count{0};  // inbox.size(); a relaxed hint outside the lock
    bool inbox_stopping = false;
    // Workers waiting on work_cv, and how many of them have been notified but
    // not yet run (written under inbox_mutex; relaxed reads elsewhere are
    // hints only). A submit notifies only when no wake-up is already on its
    // way: the woken worker drains the inbox and wakes a peer if the backlog
    // outnumbers the free workers.
    std::atomic<std::size_t> sleepers{0};
    std::atomic<std::size_t> wakes_pending{0};

    std::mutex join_mutex;  // serialises shutdown() callers
    std::vector<std::thread> threads;
    std::size_t worker_count = 0;
    std::vector<std::thread> lent;  // lend_worker()'s, guarded by `mutex`
    std::size_t lent_total = 0;     // guarded by `mutex`
    std::size_t lent_busy = 0;      // lent threads running a task, guarded by `mutex`

    // A lent thread: one task at most, then it exits.
    void lent_run() {
        std::unique_lock lock(mutex);
        drain();
        std::size_t l = 0;
        int p = 0;
        if (!pick(l, p)) return;
        std::function<void()> run = lanes[l].fifo[p].pop(pool, nullptr);
        --lanes[l].size;
        --queued;
        ++lanes[l].running;
        ++running;
        ++lent_busy;
        if (space_waiters != 0) space_cv.notify_one();
        lock.unlock();
        call_quietly(run);
        run = nullptr;
        lock.lock();
        Lane& done = lanes[l];
        const bool was_saturated = done.saturated();
        --done.running;
        --running;
        --lent_busy;
        if (was_saturated && done.size != 0) signal(false);
        if (running == 0 && queued == 0 && idle_waiters != 0 && inbox_count.load(std::memory_order_relaxed) == 0)
            idle_cv.notify_all();
    }

    // An event that may make a task eligible: wakes one sleeper (or all).
    // Caller may hold `mutex`, not inbox_mutex.
    void signal(bool all) {
        bool wake = false;
        {
            const std::lock_guard il(inbox_mutex);
            const std::size_t s = sleepers.load(std::memory_order_relaxed);
            wake = s > wakes_pending.load(std::memory_order_relaxed);
            if (wake)
                wakes_pending.store(all ? s : wakes_pending.load(std::memory_order_relaxed) + 1,
                                    std::memory_order_relaxed);
        }
        if (!wake) return;
        if (all) {
            work_cv.notify_all();
        } else {
            work_cv.notify_one();
        }
    }

    // Moves the inbox into the lanes. Caller holds `mutex`.
    void drain() {
        if (inbox_count.load(std::memory_order_relaxed) == 0) return;
        {
            const std::lock_guard il(inbox_mutex);
            inbox_pool.absorb(spent);
            draining.swap(inbox);
            inbox_count.store(0, std::memory_order_relaxed);
        }
        while (!draining.empty()) {
            Entry& in = draining.front_mut();
            const auto queue = static_cast<std::size_t>(in.seq >> 2);
            const auto level = static_cast<int>(in.seq & 3U);
            Lane& lane = lanes[queue];
            std::function<void()>* unused = nullptr;
            Entry& e = lane.fifo[level].push(pool, false, unused);
            e.run = std::move(in.run);
            e.enqueued_ns = in.enqueued_ns;
            e.seq = next_seq++;
            ++lane.size;
            ++queued;
            (void)draining.pop(spent, nullptr);
        }
    }

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
                    if (queued == 1) return true;  // the only task: nothing to compare
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
        std::function<void()> dropped;
        // The evicted `run` dies here, under the lock: it is never called, and
        // its captures are the submitter's (drop_oldest callers accept this).
        (void)best_lane->fifo[best_level].pop(pool, &dropped);
        --best_lane->size;
        --queued;
        return dropped;
    }

    // After taking a task, with `queued` still in the lanes: wake a sleeper if
    // the queued tasks outnumber the workers that will look at them anyway
    // (awake and not running a task, or notified and on their way). Caller
    // holds `mutex`.
    void wake_peer_if_needed() {
        if (queued == 0) return;
        const std::size_t s = sleepers.load(std::memory_order_relaxed);
        const std::size_t w = wakes_pending.load(std::memory_order_relaxed);
        if (s <= w) return;
        const std::size_t free_workers = worker_count + lent_busy + w - s - running;
        if (free_workers >= queued) return;
        signal(false);
    }

    void worker_loop() {
        std::unique_lock lock(mutex);
        for (;;) {
            std::size_t l = 0;
            int p = 0;
            // No spinning before sleeping: on a machine with fewer CPUs than
            // threads (and on a 1-CPU VM) a spinning worker only steals the
            // submitter's time slice.
            drain();
            if (!pick(l, p)) {
                std::unique_lock il(inbox_mutex);
                if (!inbox.empty()) continue;  // arrived since the drain
                if (stopping && queued == 0) {
                    // Workers parked behind a saturated lane must see the
                    // backlog run dry too, or join() would wait for them.
                    il.unlock();
                    lock.unlock();
                    signal(true);
                    return;
                }
                // Counted a sleeper while still holding `mutex`: an event under
                // it (a lane slot freed, shutdown) cannot fall in between. Every
                // return from wait() re-checks (no predicate loop inside wait,
                // which could swallow a notify_one meant for this wake-up).
                sleepers.store(sleepers.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                lock.unlock();
                work_cv.wait(il);
                sleepers.store(sleepers.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
                const std::size_t w = wakes_pending.load(std::memory_order_relaxed);
                if (w != 0) wakes_pending.store(w - 1, std::memory_order_relaxed);
                il.unlock();
                lock.lock();
                continue;
            }
            Lane& lane = lanes[l];
            std::function<void()> run = lane.fifo[p].pop(pool, nullptr);
            --lane.size;
            --queued;
            ++lane.running;
            ++running;
            if (space_waiters != 0) space_cv.notify_one();
            wake_peer_if_needed();
            lock.unlock();

            call_quietly(run);
            run = nullptr;  // the task's captures die outside the lock

            lock.lock();
            Lane& done = lanes[l];  // re-index: queue() may have grown the vector
            const bool was_saturated = done.saturated();
            --done.running;
            --running;
            // A slot freed in a limited lane: its next task is eligible now. This
            // worker takes the best eligible task, which may be another lane's,
            // so wake an idle worker for the lane.
            if (was_saturated && done.size != 0) signal(false);
            if (running == 0 && queued == 0 && idle_waiters != 0 && inbox_count.load(std::memory_order_relaxed) == 0) {
                idle_cv.notify_all();
            }
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

Executor::~Executor() {
    shutdown();
}

QueueId Executor::queue(std::string_view name, std::size_t max_concurrency) {
    Impl& im = *impl_;
    const std::lock_guard lock(im.mutex);
    auto& lanes = im.lanes;
    for (std::size_t i = 1; i < lanes.size(); ++i) {
        if (lanes[i].name == name) {
            const bool raised = max_concurrency == 0 || max_concurrency > lanes[i].limit;
            lanes[i].limit = max_concurrency;
            // Queued tasks may still sit in the inbox: a raise always wakes.
            if (raised) im.signal(true);
            return static_cast<QueueId>(i);
        }
    }
    Lane& lane = lanes.emplace_back();
    lane.name = std::string(name);
    lane.limit = max_concurrency;
    im.lane_count.store(lanes.size(), std::memory_order_release);
    return static_cast<QueueId>(lanes.size() - 1);
}

SubmitResult Executor::submit(Task task) {
    SubmitResult result = SubmitResult::rejected;
    (void)submit_batch(std::span<Task>(&task, 1), std::span<SubmitResult>(&result, 1));
    return result;
}

std::size_t Executor::submit_batch(std::span<Task> tasks, std::span<SubmitResult> results) {
    Impl& im = *impl_;
    const std::int64_t now = coarse_now_ns();  // outside the lock
    const auto level_of = [](const Task& t) { return static_cast<std::size_t>(t.priority); };
    std::size_t accepted = 0;
    if (im.use_inbox) {
        // Lanes are never removed: an id below the count is valid for good.
        // A higher id may be a lane added since the count was read: ask under the mutex.
        std::size_t lanes = im.lane_count.load(std::memory_order_acquire);
        bool stopped = false;
        for (const Task& t : tasks) {
            if (t.queue < lanes) continue;
            const std::lock_guard lock(im.mutex);
            stopped = im.stopping;
            lanes = im.lanes.size();
            break;
        }
        bool wake = false;
        {
            const std::lock_guard il(im.inbox_mutex);
            stopped = stopped || im.inbox_stopping;
            for (std::size_t i = 0; i < tasks.size(); ++i) {
                Task& t = tasks[i];
                const std::size_t level = level_of(t);
                if (stopped) {
                    results[i] = SubmitResult::stopped;
                    continue;
                }
                if (level >= static_cast<std::size_t>(kPriorityLevels) || t.queue >= lanes) {
                    results[i] = SubmitResult::rejected;
                    continue;
                }
                std::function<void()>* unused = nullptr;
                Entry& e = im.inbox.push(im.inbox_pool, false, unused);
                e.run = std::move(t.run);
                e.enqueued_ns = now;
                e.seq = (static_cast<std::uint64_t>(t.queue) << 2) | level;
                results[i] = SubmitResult::accepted;
                ++accepted;
            }
            im.inbox_count.store(im.inbox.size(), std::memory_order_relaxed);
            const std::size_t w = im.wakes_pending.load(std::memory_order_relaxed);
            // One wake-up in flight at a time: the woken worker wakes a peer
            // if the backlog warrants it.
            wake = accepted != 0 && w == 0 && im.sleepers.load(std::memory_order_relaxed) != 0;
            if (wake) im.wakes_pending.store(1, std::memory_order_relaxed);
        }
        if (wake) im.work_cv.notify_one();
        return accepted;
    }
    std::vector<std::function<void()>> evicted;  // drop_oldest only: allocates only when it evicts
    bool wake = false;
    {
        std::unique_lock lock(im.mutex);
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            Task& t = tasks[i];
            const std::size_t level = level_of(t);
            if (im.stopping) {
                results[i] = SubmitResult::stopped;
                continue;
            }
            if (level >= static_cast<std::size_t>(kPriorityLevels) || t.queue >= im.lanes.size()) {
                results[i] = SubmitResult::rejected;
                continue;
            }
            const std::size_t max = im.options.max_backlog;
            if (max != 0 && im.queued >= max) {
                if (im.options.overflow == OverflowPolicy::reject) {
                    results[i] = SubmitResult::rejected;
                    continue;
                }
                if (im.options.overflow == OverflowPolicy::drop_oldest) {
                    if (auto dropped = im.evict_oldest()) evicted.push_back(std::move(dropped));
                } else {  // block: tasks queued so far may start meanwhile
                    if (wake) im.signal(false);
                    ++im.space_waiters;
                    while (!im.stopping && im.queued >= max) im.space_cv.wait(lock);
                    --im.space_waiters;
                    if (im.stopping) {
                        results[i] = SubmitResult::stopped;
                        continue;
                    }
                }
            }
            Lane& lane = im.lanes[t.queue];
            std::function<void()>* dropped_slot = nullptr;
            Entry& e = lane.fifo[level].push(im.pool, static_cast<bool>(t.dropped), dropped_slot);  // an empty slot
            e.run = std::move(t.run);
            e.enqueued_ns = now;
            e.seq = im.next_seq++;
            if (dropped_slot != nullptr) *dropped_slot = std::move(t.dropped);
            ++lane.size;
            ++im.queued;
            wake = wake || !lane.saturated();
            results[i] = SubmitResult::accepted;
            ++accepted;
        }
    }
    // Notified after unlocking, so the woken worker does not block on the
    // mutex we still hold. No lost wake-up: a worker only waits after seeing
    // no eligible task under the lock, and counted itself a sleeper first.
    // One wake-up serves a batch: a woken worker wakes a peer while the
    // backlog outnumbers the free workers.
    if (wake) im.signal(false);
    for (auto& fn : evicted) call_quietly(fn);
    return accepted;
}

void Executor::wait_idle() {
    Impl& im = *impl_;
    std::unique_lock lock(im.mutex);
    ++im.idle_waiters;
    im.idle_cv.wait(
        lock, [&] { return im.queued == 0 && im.running == 0 && im.inbox_count.load(std::memory_order_relaxed) == 0; });
    --im.idle_waiters;
}

void Executor::request_shutdown() {
    Impl& im = *impl_;
    const std::lock_guard lock(im.mutex);
    im.stopping = true;
    {
        const std::lock_guard il(im.inbox_mutex);
        im.inbox_stopping = true;
    }
    im.signal(true);
    im.space_cv.notify_all();
}

void Executor::shutdown() {
    Impl& im = *impl_;
    const std::lock_guard join_lock(im.join_mutex);
    request_shutdown();
    for (auto& t : im.threads) {
        if (t.joinable()) t.join();
    }
    im.threads.clear();
    std::vector<std::thread> lent;
    {
        const std::lock_guard lock(im.mutex);
        lent.swap(im.lent);
    }
    for (auto& t : lent) t.join();
}

std::size_t Executor::queued() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->queued + impl_->inbox_count.load(std::memory_order_relaxed);
}

std::size_t Executor::running() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->running;
}

std::vector<QueueStats> Executor::queue_stats() const {
    Impl& im = *impl_;
    const std::int64_t now = coarse_now_ns();
    const std::lock_guard lock(im.mutex);
    im.drain();  // the inbox's tasks count as queued in their lanes
    std::vector<QueueStats> out;
    out.reserve(im.lanes.size());
    for (std::size_t i = 0; i < im.lanes.size(); ++i) {
        const Lane& lane = im.lanes[i];
        QueueStats& s = out.emplace_back();
        s.name = i == kDefaultQueue ? std::string("default") : lane.name;
        s.limit = lane.limit;
        s.queued = lane.size;
        s.running = lane.running;
        std::int64_t oldest = now;
        for (const Fifo& f : lane.fifo)
            if (!f.empty()) oldest = std::min(oldest, f.front().enqueued_ns);
        s.oldest_wait = std::chrono::nanoseconds(std::max<std::int64_t>(0, now - oldest));
    }
    return out;
}

std::size_t Executor::workers() const {
    return impl_->worker_count;
}

bool Executor::lend_worker() {
    Impl& im = *impl_;
    const std::lock_guard lock(im.mutex);
    if (im.stopping) return false;
    ++im.lent_total;
    im.lent.emplace_back([impl = impl_.get()] { impl->lent_run(); });
    return true;
}

std::size_t Executor::workers_lent() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->lent_total;
}

}  // namespace txflow
