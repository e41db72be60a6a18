#include "txflow/scheduler.hpp"

#include "common/duration_text.hpp"
#include "saga/engine.hpp"
#include "store/journal.hpp"
#include "txflow/core/timer_heap.hpp"
#include "txflow/policy/policy.hpp"
#include "txflow/store/memory_store.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <new>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace txflow {

using std::chrono::milliseconds;

// The per-job record. Kept small: a scheduler may hold hundreds of thousands
// of jobs, and bytes_per_job (bench/timer_bench.cpp) budgets 128 B per job for
// record + name index + timer. The name lives in the same allocation, right
// after the record (the index keys on it, so there is no second copy); what
// only cron jobs need, and rare state (errors, misfires, jitter, a fire_all
// cap), sit behind one pointer, `extra`, allocated on first use. Runs in
// flight are listed in Impl::active_runs, not per job. The record is 80 B, so
// with a name of up to 8 bytes it fits glibc's 88-byte size class.
// Every field is guarded by Scheduler::Impl::mutex, except the ones fixed at
// registration (name, fn, priority, queue), which are read without it; the
// bit-fields are only ever touched under the mutex.
class JobState {
public:
    struct CronTrigger {
        cron::Schedule schedule;
        std::string text;  // as written, or the schedule's own rendering
        std::optional<WallTime> last_fire;
        // Recovered from the store: arm from here, so that fires missed while
        // the process was down go through the misfire policy.
        std::optional<WallTime> catch_up_from;
    };
    struct Extra {
        std::optional<CronTrigger> cron;  // cron jobs only
        std::string last_error;
        std::uint64_t misfire_count = 0;
        milliseconds jitter{0};
        std::uint32_t misfire_cap = 0;  // fire_all only
        QueueId queue = kDefaultQueue;  // set at registration only
        std::uint64_t retries = 0;      // attempts after the first
        std::uint64_t skips = 0;        // runs that ended skipped, and coalesced fires
        std::uint32_t queued = 0;       // coalescing jobs only: runs queued, not yet started
        // cron/at: the fires queued and not yet done (their first attempt has
        // not ended), oldest first, and the fire the store last recorded as
        // done: every fire up to it ran, or was reported missed.
        std::vector<std::int64_t> open_fires;
        std::int64_t recorded_fire = kNoTime;
    };
    static constexpr std::int64_t kNoTime = INT64_MIN;
    static constexpr std::uint8_t kLongName = 0xFF;  // the tail starts with a uint32 length

    static JobState* create(std::string_view name) {
        const bool long_name = name.size() >= kLongName;
        const std::size_t prefix = long_name ? sizeof(std::uint32_t) : 0;
        void* mem = ::operator new(sizeof(JobState) + prefix + name.size());
        auto* j = new (mem) JobState(long_name ? kLongName : static_cast<std::uint8_t>(name.size()));
        char* tail = reinterpret_cast<char*>(j + 1);
        if (long_name) {
            const auto n = static_cast<std::uint32_t>(name.size());
            std::memcpy(tail, &n, sizeof n);
        }
        std::memcpy(tail + prefix, name.data(), name.size());
        return j;
    }
    static void destroy(JobState* j) noexcept {
        if (j == nullptr) return;
        j->~JobState();
        ::operator delete(static_cast<void*>(j));
    }
    JobState(const JobState&) = delete;
    JobState& operator=(const JobState&) = delete;

    [[nodiscard]] std::string_view name() const {
        const char* tail = reinterpret_cast<const char*>(this + 1);
        if (name_size_ != kLongName) return {tail, name_size_};
        std::uint32_t n = 0;
        std::memcpy(&n, tail, sizeof n);
        return {tail + sizeof n, n};
    }
    [[nodiscard]] bool wall_based() const { return kind == Trigger::Kind::cron || kind == Trigger::Kind::at; }

    // cron/at: the wall instant the timer waits for, if armed.
    [[nodiscard]] std::optional<WallTime> next_wall() const {
        if (!wall_based() || next_ == kNoTime) return std::nullopt;
        return WallTime{milliseconds{next_}};
    }
    void set_next_wall(std::optional<WallTime> w) {
        if (wall_based()) next_ = w ? w->time_since_epoch().count() : kNoTime;
    }
    // every/after: the nominal deadline, before jitter; SteadyTime{} if none.
    [[nodiscard]] SteadyTime next_steady() const {
        return wall_based() || next_ == kNoTime ? SteadyTime{} : SteadyTime{SteadyTime::duration{next_}};
    }
    void set_next_steady(SteadyTime t) { next_ = t.time_since_epoch().count(); }
    [[nodiscard]] milliseconds period() const { return milliseconds{param_}; }
    void set_period(milliseconds d) { param_ = d.count(); }
    [[nodiscard]] WallTime at() const { return WallTime{milliseconds{param_}}; }
    void set_at(WallTime t) { param_ = t.time_since_epoch().count(); }
    static constexpr std::uint32_t kNotArmed = 0xFFFF'FFFFu;
    [[nodiscard]] bool armed() const { return heap_pos != kNotArmed; }
    // Fixed at registration, before the record is published: read without the mutex.
    [[nodiscard]] Priority priority() const { return static_cast<Priority>(fixed_ & kPriorityMask); }
    [[nodiscard]] QueueId queue() const { return (fixed_ & kHasQueue) != 0 ? extra->queue : kDefaultQueue; }
    void set_priority(Priority p) {
        fixed_ = static_cast<std::uint8_t>((fixed_ & ~kPriorityMask) | (static_cast<std::uint8_t>(p) & kPriorityMask));
    }
    void set_queue(QueueId q) {
        if (q == kDefaultQueue) return;
        extra_state().queue = q;  // never freed or replaced while the record lives
        fixed_ |= kHasQueue;
    }
    [[nodiscard]] milliseconds jitter() const { return extra ? extra->jitter : milliseconds{0}; }
    [[nodiscard]] std::uint32_t misfire_cap() const { return extra ? extra->misfire_cap : 0; }
    [[nodiscard]] CronTrigger* cron() const { return extra && extra->cron ? &*extra->cron : nullptr; }
    void set_cron(std::optional<CronTrigger> c) {
        if (c || extra) extra_state().cron = std::move(c);
    }
    Extra& extra_state() {
        if (!extra) extra = std::make_unique<Extra>();
        return *extra;
    }

    JobFunction fn;
    std::unique_ptr<Extra> extra;  // allocated on first use
    std::uint64_t run_count = 0;

private:
    std::int64_t param_ = 0;       // every/after: period in ms; at: wall ms
    std::int64_t next_ = kNoTime;  // wall ms (cron/at) or steady ticks (every/after, 0: none)

public:
    std::uint32_t heap_pos = kNotArmed;  // index in Impl::timers, kNotArmed if not armed
    std::uint32_t timer_seq = 0;         // arming order: ties between equal deadlines
    std::uint32_t pending = 0;           // runs queued or running; the record outlives them
    Trigger::Kind kind : 3 = Trigger::Kind::after;
    Misfire::Mode misfire_mode : 2 = Misfire::Mode::fire_once;
    Outcome last_outcome : 3 = Outcome::none;
    bool paused : 1 = false;
    bool removed : 1 = false;
    bool done : 1 = false;          // one-shot job that has fired
    bool skip_overlap : 1 = false;  // skip_if_running(): fixed at registration
    bool coalesce : 1 = false;      // fixed at registration

private:
    static constexpr std::uint8_t kPriorityMask = 0x3;
    static constexpr std::uint8_t kHasQueue = 0x4;  // extra->queue holds a named queue
    static_assert(static_cast<int>(Priority::critical) <= kPriorityMask);

    explicit JobState(std::uint8_t name_size) : name_size_(name_size) {}
    ~JobState() = default;

    std::uint8_t fixed_ = static_cast<std::uint8_t>(Priority::normal);  // priority | kHasQueue
    std::uint8_t name_size_;                                            // kLongName: see create()
};
static_assert(sizeof(JobState) <= 80, "keep a job record with a short name in glibc's 88-byte class");

// The armed jobs: a binary min-heap of {deadline, record}, each record keeping
// its own position (heap_pos), so cancel removes the entry at once (O(log n))
// and the heap holds no dead entries: 16 B per armed job and no slot table.
// (txflow::TimerHeap, the general-purpose handle-based heap, costs 32-48 B per
// timer: bytes_per_job has no room for that next to the record.) Equal
// deadlines fire in arming order: timer_seq, compared modulo 2^32, which is
// exact while tied timers were armed fewer than 2^31 arms apart.
class JobTimers {
public:
    [[nodiscard]] bool empty() const { return heap_.empty(); }
    [[nodiscard]] std::optional<SteadyTime> next_due() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().due;
    }
    // j must not be armed.
    void add(JobState& j, SteadyTime due) {
        if (heap_.size() >= JobState::kNotArmed) throw std::length_error("txflow: too many armed jobs");
        heap_.push_back(Entry{due, &j});  // may throw: nothing changed yet
        j.timer_seq = next_seq_++;
        sift_up(heap_.size() - 1);
    }
    // j must be armed.
    void cancel(JobState& j) { remove_at(j.heap_pos); }
    // The earliest job due at `now`, disarmed; nullptr if none.
    JobState* pop_due(SteadyTime now) {
        if (heap_.empty() || now < heap_.front().due) return nullptr;
        JobState* j = heap_.front().job;
        remove_at(0);
        return j;
    }

private:
    struct Entry {
        SteadyTime due;
        JobState* job;
    };
    static bool before(const Entry& a, const Entry& b) {
        if (a.due != b.due) return a.due < b.due;
        return static_cast<std::int32_t>(a.job->timer_seq - b.job->timer_seq) < 0;
    }
    void put(std::size_t pos, const Entry& e) {
        heap_[pos] = e;
        e.job->heap_pos = static_cast<std::uint32_t>(pos);
    }
    void remove_at(std::size_t pos) {
        heap_[pos].job->heap_pos = JobState::kNotArmed;
        const Entry last = heap_.back();
        heap_.pop_back();
        if (pos == heap_.size()) return;
        put(pos, last);
        if (pos > 0 && before(last, heap_[(pos - 1) / 2])) sift_up(pos);
        else sift_down(pos);
    }
    void sift_up(std::size_t pos) {
        const Entry e = heap_[pos];
        while (pos > 0) {
            const std::size_t parent = (pos - 1) / 2;
            if (!before(e, heap_[parent])) break;
            put(pos, heap_[parent]);
            pos = parent;
        }
        put(pos, e);
    }
    void sift_down(std::size_t pos) {
        const Entry e = heap_[pos];
        const std::size_t n = heap_.size();
        for (;;) {
            std::size_t child = 2 * pos + 1;
            if (child >= n) break;
            if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
            if (!before(heap_[child], e)) break;
            put(pos, heap_[child]);
            pos = child;
        }
        put(pos, e);
    }

    std::vector<Entry> heap_;
    std::uint32_t next_seq_ = 0;
};

namespace {

std::int64_t to_ms(WallTime t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(std::int64_t ms) {
    return WallTime{} + std::chrono::duration_cast<WallTime::duration>(milliseconds(ms));
}

struct PendingRun {
    JobState* job;
    WallTime scheduled;
    std::uint32_t attempt = 1;       // > 1: a retry of the same fire
    SteadyTime run_started{};        // retries: when attempt 1 started
    milliseconds previous_delay{0};  // retries: the wait before this attempt
    bool fire = false;               // a cron/at fire, tracked in Extra::open_fires until done
};

// What a timer of TimerHeap (retries, deadlines) stands for; its payload is
// the AuxTimer's address.
struct AuxTimer {
    enum class Kind : std::uint8_t { retry, deadline, stuck_check, callback };
    Kind kind;
    struct ActiveRun* run = nullptr;       // deadline, stuck_check
    struct PendingRetry* retry = nullptr;  // retry
    std::optional<TimerHeap::Handle> handle;
    struct CallbackTimer* callback = nullptr;  // callback
};

// A function to call on the timer thread (the saga engine's retries and step
// deadlines); listed by id in Impl::callbacks so cancel finds it in O(1).
struct CallbackTimer {
    std::uint64_t id = 0;
    std::function<void()> fn;
    AuxTimer timer{AuxTimer::Kind::callback, nullptr, nullptr, std::nullopt, nullptr};
};

// A retry waiting on the timer; knows its place in Impl::retries so firing
// it erases in O(1).
struct PendingRetry {
    PendingRun run;
    std::uint64_t id = 0;  // its retry_armed record
    AuxTimer timer{AuxTimer::Kind::retry, nullptr, nullptr, std::nullopt, nullptr};
    std::list<PendingRetry>::iterator self{};
};

// One attempt in progress; lives on the worker's stack, linked into Impl::active_runs.
struct ActiveRun {
    JobState* job;
    std::stop_source* stop;
    ActiveRun* next;
    AuxTimer deadline{AuxTimer::Kind::deadline, nullptr, nullptr, std::nullopt, nullptr};
    AuxTimer stuck_check{AuxTimer::Kind::stuck_check, nullptr, nullptr, std::nullopt, nullptr};
    bool stuck = false;
};

// The name index: open addressing with linear probing over record pointers
// (8 B a slot) plus a parallel byte of hash tag per slot, so a probe compares
// names only on a tag match. Power-of-two capacity, load <= 0.8 (the tags
// keep the longer probe runs cheap); erase shifts back, so no tombstones.
// Owns nothing: the scheduler destroys the records.
class NameIndex {
public:
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] JobState* find(std::string_view name) const {
        if (size_ == 0) return nullptr;
        const std::size_t h = hash(name);
        for (std::size_t i = h & mask(); slots_[i] != nullptr; i = (i + 1) & mask())
            if (tags_[i] == tag(h) && slots_[i]->name() == name) return slots_[i];
        return nullptr;
    }
    // j's name must not be in the index.
    void insert(JobState* j) {
        if ((size_ + 1) * 5 > slots_.size() * 4) grow();
        place(j, hash(j->name()));
        ++size_;
    }
    void erase(const JobState* j) {
        const std::size_t h = hash(j->name());
        std::size_t i = h & mask();
        while (slots_[i] != j) i = (i + 1) & mask();
        // Backward-shift deletion: move later entries of the run into the hole
        // when their home slot does not lie cyclically in (hole, entry].
        for (std::size_t k = (i + 1) & mask(); slots_[k] != nullptr; k = (k + 1) & mask()) {
            const std::size_t home = hash(slots_[k]->name()) & mask();
            if (((k - home) & mask()) >= ((k - i) & mask())) {
                slots_[i] = slots_[k];
                tags_[i] = tags_[k];
                i = k;
            }
        }
        slots_[i] = nullptr;
        --size_;
    }
    template <class F>
    void for_each(F&& f) const {
        for (JobState* j : slots_)
            if (j != nullptr) f(j);
    }

private:
    static std::size_t hash(std::string_view name) { return std::hash<std::string_view>{}(name); }
    static std::uint8_t tag(std::size_t h) { return static_cast<std::uint8_t>(h >> (8 * sizeof(std::size_t) - 8)); }
    [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }
    void place(JobState* j, std::size_t h) {
        std::size_t i = h & mask();
        while (slots_[i] != nullptr) i = (i + 1) & mask();
        slots_[i] = j;
        tags_[i] = tag(h);
    }
    void grow() {
        std::vector<JobState*> old = std::move(slots_);
        const std::size_t n = old.empty() ? 16 : 2 * old.size();
        slots_.assign(n, nullptr);  // may throw: old is restored below
        try {
            tags_.assign(n, 0);
        } catch (...) {
            slots_ = std::move(old);
            throw;
        }
        for (JobState* j : old)
            if (j != nullptr) place(j, hash(j->name()));
    }

    std::vector<JobState*> slots_;  // nullptr: empty
    std::vector<std::uint8_t> tags_;
    std::size_t size_ = 0;
};

std::string describe_period(milliseconds d);

Event event(EventKind kind, std::string_view job, WallTime fire_time) {
    Event e;
    e.kind = kind;
    e.job = job;
    e.fire_time = fire_time;
    return e;
}

std::string describe_period(milliseconds d) {
    return txflow::detail::format_duration(d);
}

}  // namespace

namespace {

std::string schedule_text(const JobState& j) {
    switch (j.kind) {
        case Trigger::Kind::cron: return j.cron()->text;
        case Trigger::Kind::every_fixed_rate: return "every " + describe_period(j.period());
        case Trigger::Kind::every_fixed_delay: return "every " + describe_period(j.period()) + " (fixed delay)";
        case Trigger::Kind::after: return "after " + describe_period(j.period());
        case Trigger::Kind::at: return "at " + cron::to_rfc3339(j.at(), cron::Zone::utc());
    }
    return {};
}

}  // namespace

struct Scheduler::Impl {
    Scheduler& owner;
    Clock& clock;
    spdlog::logger& log;
    SchedulerOptions options;
    Executor executor;

    mutable std::mutex mutex;
    std::condition_variable wake_cv;  // timer thread
    std::condition_variable idle_cv;  // wait_idle / stop
    JobTimers timers;
    // Owns the records it holds. A removed record leaves the index at once and
    // is destroyed when its last queued or running run ends.
    NameIndex by_name;
    ActiveRun* active_runs = nullptr;
    TimerHeap aux_timers;             // retries and attempt deadlines
    std::list<PendingRetry> retries;  // stable addresses: timers point at them
    std::vector<DeadLetter> dead_letters;
    std::uint64_t next_dead_letter = 1;
    std::size_t stuck = 0;
    BreakerRegistry breakers;
    std::unordered_map<std::string, std::shared_ptr<TokenBucket>> rate_limiters;
    std::unordered_map<std::string, QueueId> queues;
    bool started = false;
    bool stopping = false;
    bool timer_exited = false;
    std::size_t queued_runs = 0;  // runs submitted and not yet taken by a worker
    bool cancel_queued = false;
    bool wake = false;
    std::uint64_t seen_generation = 0;
    std::size_t inflight = 0;
    SteadyTime last_steady{};
    WallTime last_wall{};
    std::mt19937_64 rng;
    std::jthread timer_thread;
    std::uint64_t clock_subscription = 0;
    std::unordered_map<std::uint64_t, std::unique_ptr<CallbackTimer>> callbacks;
    std::uint64_t next_callback = 1;
    std::vector<std::function<void()>> due_callbacks;  // popped by the timer thread, run unlocked

    // The saga engine's view of the scheduler.
    class SagaHost final : public saga::EngineHost {
    public:
        explicit SagaHost(Impl& impl) : impl_(impl) {}
        Clock& clock() override { return impl_.clock; }
        spdlog::logger& log() override { return impl_.log; }
        bool submit(Priority priority, std::string_view queue, std::function<void()> fn) override {
            QueueId id = kDefaultQueue;
            {
                const std::lock_guard lock(impl_.mutex);
                if (impl_.cancel_queued) return false;
                id = impl_.queue_id(std::string(queue));
                ++impl_.inflight;
            }
            Task task;
            task.priority = priority;
            task.queue = id;
            task.run = [this, fn = std::move(fn)] {
                // The executor swallows what a task throws: say it, and keep
                // the count (or wait_idle() and stop()'s drain wait forever).
                try {
                    fn();
                } catch (const std::exception& e) {
                    impl_.log.critical("a saga task threw (a bug in txflow): {}", e.what());
                } catch (...) {
                    impl_.log.critical("a saga task threw (a bug in txflow): unknown exception");
                }
                done();
            };
            task.dropped = [this] { done(); };
            if (impl_.executor.submit(std::move(task)) != SubmitResult::accepted) {
                done();
                return false;
            }
            return true;
        }
        std::uint64_t call_at(SteadyTime due, std::function<void()> fn) override {
            const std::lock_guard lock(impl_.mutex);
            auto cb = std::make_unique<CallbackTimer>();
            cb->id = impl_.next_callback++;
            cb->fn = std::move(fn);
            cb->timer.callback = cb.get();
            impl_.arm_aux(cb->timer, due);
            const auto id = cb->id;
            impl_.callbacks.emplace(id, std::move(cb));
            return id;
        }
        void cancel_call(std::uint64_t id) override {
            std::unique_ptr<CallbackTimer> gone;  // destroyed unlocked
            const std::lock_guard lock(impl_.mutex);
            auto it = impl_.callbacks.find(id);
            if (it == impl_.callbacks.end()) return;
            impl_.disarm_aux(it->second->timer);
            gone = std::move(it->second);
            impl_.callbacks.erase(it);
        }
        bool has_listeners() const override { return !impl_.options.listeners_.empty(); }
        void emit(const Event& event) override {
            Event e = event;
            if (e.fire_time == WallTime{}) e.fire_time = impl_.clock.wall_now();
            impl_.emit(e);
        }
        std::uint64_t seed() override { return impl_.options.seed_; }
        std::size_t recovery_concurrency() override {
            const std::size_t chosen = impl_.options.saga_recovery_workers_;
            return chosen != 0 ? chosen : std::max<std::size_t>(1, impl_.executor.workers() / 2);
        }

    private:
        void done() {
            const std::lock_guard lock(impl_.mutex);
            --impl_.inflight;
            impl_.idle_cv.notify_all();
        }
        Impl& impl_;
    };
    SagaHost saga_host{*this};
    store::Journal journal;
    // What the store remembers of jobs, until each job is registered again.
    std::unordered_map<std::string, WallTime> recovered_fires;
    std::unordered_map<std::string, std::vector<store::RetryArmed>> recovered_retries;
    std::uint64_t next_retry_id = 1;
    saga::Engine engine{saga_host, journal};

    Impl(Scheduler& s, Clock& c, spdlog::logger& l, SchedulerOptions opts)
        : owner(s),
          clock(c),
          log(l),
          options(std::move(opts)),
          executor(options.executor_),
          breakers(c),
          rng(options.seed_ != 0 ? options.seed_ : std::random_device{}()),
          journal(options.store_ ? options.store_ : std::make_shared<store::MemoryStore>(), options.snapshot_every_,
                  [this](const store::StoreError& e) {
                      log.critical(
                          "the store failed ({}): nothing more is recorded; jobs keep running, sagas stop at "
                          "their next transition; restart with a working store to recover",
                          e.message);
                  }) {
        if (auto loaded = journal.load(); !loaded) {
            throw std::runtime_error("txflow: cannot recover from the store: " + loaded.error().message);
        }
        const auto& state = journal.state();
        engine.recover(state);
        for (const auto& [job, ms] : state.last_fire_ms) recovered_fires[job] = from_ms(ms);
        for (const auto& [id, r] : state.retries) {
            recovered_retries[r.job].push_back(r);
            next_retry_id = std::max(next_retry_id, id + 1);
        }
        for (const auto& [id, d] : state.dead_letters) {
            dead_letters.push_back(
                DeadLetter{d.id, d.job, from_ms(d.fire_ms), d.attempts, d.error, from_ms(d.failed_ms)});
            next_dead_letter = std::max(next_dead_letter, id + 1);
        }
        for (const auto& [name, limit] : options.queues_) queues[name] = executor.queue(name, limit);
        clock_subscription = clock.subscribe([this] {
            {
                const std::lock_guard lock(mutex);
                wake = true;
            }
            wake_cv.notify_one();
        });
    }

    // Runs after Scheduler::~Scheduler has shut the executor down: no run is
    // pending, so every record left is in the index.
    ~Impl() {
        clock.unsubscribe(clock_subscription);
        by_name.for_each([](JobState* j) { JobState::destroy(j); });
    }

    // Events raised under the mutex wait here, with their strings owned, until
    // flush_events() delivers them unlocked: a listener may call back into the
    // scheduler.
    struct Deferred {
        Event event;
        std::string job;
        std::string detail;
        std::string error;
    };
    std::vector<Deferred> deferred;
    // One thread delivers deferred events at a time, so listeners see them in
    // the order they were raised: a job's "retrying" for attempt 2 never
    // arrives after the events of attempt 3.
    std::mutex delivery_mutex;
    std::atomic<std::thread::id> delivering{};

    void defer(const Event& e) {
        if (options.listeners_.empty()) return;
        deferred.push_back({e, std::string(e.job), std::string(e.detail), std::string(e.error)});
    }
    // Call without the mutex. Returns once every event deferred before the
    // call has been delivered, by this thread or by the one delivering.
    void flush_events() {
        if (options.listeners_.empty()) return;
        // A listener calling back into the scheduler lands here again: the
        // loop below, already running on this thread, delivers what it raised.
        if (delivering.load(std::memory_order_relaxed) == std::this_thread::get_id()) return;
        const std::lock_guard delivery(delivery_mutex);
        delivering.store(std::this_thread::get_id(), std::memory_order_relaxed);
        struct Reset {
            std::atomic<std::thread::id>& who;
            ~Reset() { who.store(std::thread::id{}, std::memory_order_relaxed); }
        } reset{delivering};
        std::vector<Deferred> batch;
        for (;;) {
            {
                const std::lock_guard lock(mutex);
                batch.swap(deferred);
            }
            if (batch.empty()) return;
            for (auto& d : batch) {
                d.event.job = d.job;
                d.event.detail = d.detail;
                d.event.error = d.error;
                emit(d.event);
            }
            batch.clear();
        }
    }

    void emit(const Event& e) const {
        for (const auto& l : options.listeners_) l->on_event(e);
    }

    void notify_timer() {
        wake = true;
        wake_cv.notify_one();
    }

    QueueId queue_id(const std::string& name) {
        if (name.empty()) return kDefaultQueue;
        if (auto it = queues.find(name); it != queues.end()) return it->second;
        return queues[name] = executor.queue(name, 0);
    }

    milliseconds draw_jitter(const JobState& j) {
        const milliseconds max = j.jitter();
        if (max.count() <= 0) return milliseconds{0};
        std::uniform_int_distribution<std::int64_t> dist(0, max.count());
        return milliseconds{dist(rng)};
    }

    void disarm(JobState& j) {
        if (j.armed()) timers.cancel(j);
    }

    void set_deadline(JobState& j, SteadyTime deadline) {
        disarm(j);
        timers.add(j, deadline);
        notify_timer();
    }

    // Arms the timer for a wall-clock fire at w.
    void arm_wall(JobState& j, WallTime w, SteadyTime now_s, WallTime now_w) {
        j.set_next_wall(w);
        set_deadline(j, now_s + (w - now_w) + draw_jitter(j));
        defer(event(EventKind::scheduled, j.name(), w));
    }

    // Computes and arms the next fire of a job that has none armed.
    void arm(JobState& j, SteadyTime now_s, WallTime now_w) {
        if (!started || stopping || j.paused || j.removed || j.done) return;
        switch (j.kind) {
            case Trigger::Kind::cron: {
                const auto& last_fire = j.cron()->last_fire;
                WallTime base = last_fire ? std::max(*last_fire, now_w) : now_w;
                if (auto& from = j.cron()->catch_up_from) {
                    base = std::min(*from, now_w);
                    from.reset();
                }
                const auto fire = j.cron()->schedule.next(base);
                if (!fire) {
                    j.set_next_wall(std::nullopt);
                    j.done = true;
                    return;
                }
                arm_wall(j, *fire, now_s, now_w);
                return;
            }
            case Trigger::Kind::at: arm_wall(j, j.at(), now_s, now_w); return;
            case Trigger::Kind::after:
            case Trigger::Kind::every_fixed_rate:
            case Trigger::Kind::every_fixed_delay:
                if (j.next_steady() == SteadyTime{}) j.set_next_steady(now_s + j.period());
                set_deadline(j, j.next_steady() + draw_jitter(j));
                defer(event(EventKind::scheduled, j.name(),
                            now_w + std::chrono::duration_cast<milliseconds>(j.next_steady() - now_s)));
                return;
        }
    }

    // Finished sagas are forgotten after the retention, checked every minute
    // (or every retention, if shorter) on a worker, at low priority.
    void arm_saga_purge() {
        const auto every = std::min<milliseconds>(options.saga_retention_, std::chrono::minutes(1));
        saga_host.call_at(clock.steady_now() + std::max(every, milliseconds(1)), [this] {
            saga_host.submit(Priority::low, {}, [this] { engine.purge(clock.wall_now() - options.saga_retention_); });
            arm_saga_purge();
        });
    }

    // A job registered again after a restart picks up what the store kept of
    // it: its last fire (so missed fires meet the misfire policy) and the
    // retries that were waiting. Each is used once.
    void restore(JobState& j) {
        const std::string name(j.name());
        if (auto it = recovered_fires.find(name); it != recovered_fires.end()) {
            j.extra_state().recorded_fire = to_ms(it->second);
            if (auto* c = j.cron()) {
                c->last_fire = it->second;
                c->catch_up_from = it->second;
            } else if (j.kind == Trigger::Kind::at && it->second >= j.at()) {
                j.done = true;  // it fired before the restart
            }
            recovered_fires.erase(it);
        }
        if (auto it = recovered_retries.find(name); it != recovered_retries.end()) {
            const WallTime now_w = clock.wall_now();
            for (const auto& r : it->second) {
                const auto due = from_ms(r.due_ms);
                const auto delay =
                    due > now_w ? std::chrono::duration_cast<milliseconds>(due - now_w) : milliseconds{0};
                log.info("job '{}': re-arming attempt {} of the fire at {} (pending before the restart)", name,
                         r.attempt, cron::to_rfc3339(from_ms(r.fire_ms), cron::Zone::utc()));
                schedule_retry(PendingRun{&j, from_ms(r.fire_ms), r.attempt, clock.steady_now(), delay}, delay,
                               r.retry);
            }
            recovered_retries.erase(it);
        }
    }

    // fire: a cron/at fire, done (and recorded as such) once its first
    // attempt ends. False for trigger_now() and dead-letter re-runs.
    void queue_run(JobState& j, WallTime scheduled, std::vector<PendingRun>& runs, bool fire = false) {
        if (j.coalesce) {
            auto& queued = j.extra_state().queued;
            if (queued > 0) {
                ++j.extra->skips;
                log.debug("job '{}': fire at {} coalesced (a run is already queued)", j.name(),
                          cron::to_rfc3339(scheduled, cron::Zone::utc()));
                Event e = event(EventKind::skipped, j.name(), scheduled);
                e.count = 1;
                e.detail = "coalesced";
                defer(e);
                return;
            }
            ++queued;
        }
        ++inflight;
        ++queued_runs;
        ++j.pending;
        if (fire) j.extra_state().open_fires.push_back(to_ms(scheduled));
        runs.push_back({&j, scheduled, 1, SteadyTime{}, milliseconds{0}, fire});
    }

    // ---- which fires are done (kill -9 safety)
    // A fire is done when its first attempt has ended (a retry then waits in
    // the store, a saga started by it is durable) or when it was reported
    // (missed, skipped, rejected, dropped). The store keeps a watermark per
    // job: every fire up to it is done. A fire queued but not done when the
    // process dies lies after the watermark, so recovery runs it again or
    // reports it missed, per the job's misfire policy.
    // Returns the record's seq to sync (outside the mutex), or 0.
    std::uint64_t fire_done(JobState& j, WallTime fire) {
        auto& open = j.extra_state().open_fires;
        if (auto it = std::find(open.begin(), open.end(), to_ms(fire)); it != open.end()) open.erase(it);
        return record_fires_done(j);
    }
    std::uint64_t record_fires_done(JobState& j) {
        auto& x = j.extra_state();
        std::int64_t done = kNoFire;
        if (!x.open_fires.empty()) done = x.open_fires.front() - 1;  // every fire before the oldest open one
        else if (const auto* c = j.cron(); c && c->last_fire) done = to_ms(*c->last_fire);
        else if (j.kind == Trigger::Kind::at && j.done) done = to_ms(j.at());
        if (done == kNoFire || (x.recorded_fire != JobState::kNoTime && done <= x.recorded_fire)) return 0;
        x.recorded_fire = done;
        auto seq = journal.submit(store::JobFired{std::string(j.name()), done});
        return seq ? *seq : 0;
    }
    static constexpr std::int64_t kNoFire = JobState::kNoTime;
    void sync_record(std::uint64_t seq) {
        if (seq != 0) (void)journal.sync(seq);
    }

    // ---- retries and deadlines (TimerHeap, payload: AuxTimer*)
    void arm_aux(AuxTimer& t, SteadyTime due) {
        if (t.handle) aux_timers.cancel(*t.handle);
        t.handle = aux_timers.add(due, reinterpret_cast<std::uintptr_t>(&t));
        notify_timer();
    }
    void disarm_aux(AuxTimer& t) {
        if (t.handle) aux_timers.cancel(*t.handle);
        t.handle.reset();
    }
    // The job keeps its pending count while the retry waits, so its record lives.
    // recovered_id: re-arming a retry recovered from the store (already recorded).
    void schedule_retry(const PendingRun& next, milliseconds delay, std::uint64_t recovered_id = 0) {
        ++next.job->pending;
        auto& r = retries.emplace_back(PendingRetry{next});
        r.self = std::prev(retries.end());
        r.timer.retry = &r;
        r.id = recovered_id != 0 ? recovered_id : next_retry_id++;
        if (recovered_id == 0) {
            (void)journal.submit(store::RetryArmed{r.id, std::string(next.job->name()), to_ms(next.scheduled),
                                                   next.attempt, to_ms(clock.wall_now() + delay)});
        }
        arm_aux(r.timer, clock.steady_now() + delay);
    }
    // Drops the waiting retries of j (all when j is null); returns records to destroy.
    std::vector<JobState*> drop_retries(const JobState* j) {
        std::vector<JobState*> dead;
        for (auto it = retries.begin(); it != retries.end();) {
            if (j != nullptr && it->run.job != j) {
                ++it;
                continue;
            }
            disarm_aux(it->timer);
            // At stop the retry stays in the store, to be re-armed after a restart.
            if (j != nullptr) (void)journal.submit(store::RetryDone{it->id});
            JobState& job = *it->run.job;
            --job.pending;
            if (job.removed && job.pending == 0) dead.push_back(&job);
            it = retries.erase(it);
        }
        idle_cv.notify_all();
        return dead;
    }
    void on_aux_timer(AuxTimer& t, std::vector<PendingRun>& runs) {
        t.handle.reset();
        switch (t.kind) {
            case AuxTimer::Kind::retry: {
                const PendingRun run = t.retry->run;
                (void)journal.submit(store::RetryDone{t.retry->id});
                retries.erase(t.retry->self);
                ++inflight;  // pending was kept while waiting
                ++queued_runs;
                runs.push_back(run);
                return;
            }
            case AuxTimer::Kind::deadline:
                t.run->stop->request_stop();
                arm_aux(t.run->stuck_check, clock.steady_now() + options.stuck_after_);
                return;
            case AuxTimer::Kind::callback: {
                auto it = callbacks.find(t.callback->id);
                due_callbacks.push_back(std::move(it->second->fn));
                callbacks.erase(it);
                ++inflight;  // until the callback has run
                return;
            }
            case AuxTimer::Kind::stuck_check: {
                t.run->stuck = true;
                ++stuck;
                log.warn("job '{}' is stuck: still running {} ms after its deadline and a stop request",
                         t.run->job->name(), options.stuck_after_.count());
                defer(event(EventKind::stuck, t.run->job->name(), WallTime{}));
                return;
            }
        }
    }

    // A run of j ended or never started. Returns the record if it is now to be
    // destroyed (removed, nothing pending): the caller does that after
    // unlocking, so the user's callable is never destroyed under the mutex.
    [[nodiscard]] JobState* release_run(JobState& j) {
        --j.pending;
        --inflight;
        idle_cv.notify_all();
        return j.removed && j.pending == 0 ? &j : nullptr;
    }

    void note_misfire(JobState& j, WallTime first_missed, std::uint64_t count, bool skipped) {
        j.extra_state().misfire_count += count;
        // A fixed-rate job falling behind its period is routine under load; a
        // missed wall-clock fire is worth a warning.
        const auto level = j.kind == Trigger::Kind::every_fixed_rate ? spdlog::level::debug : spdlog::level::warn;
        log.log(level, "job '{}' missed {} fire(s) from {} on", j.name(), count,
                cron::to_rfc3339(first_missed, cron::Zone::utc()));
        Event e = event(skipped ? EventKind::skipped : EventKind::misfired, j.name(), first_missed);
        e.count = count;
        defer(e);
    }

    // The timer of j expired at steady time now_s.
    void on_timer(JobState& j, SteadyTime now_s, WallTime now_w, std::vector<PendingRun>& runs) {
        switch (j.kind) {
            case Trigger::Kind::cron:
            case Trigger::Kind::at: {
                const WallTime due = *j.next_wall();
                if (now_w < due) {  // the wall clock went back, or drifted: wait for it
                    set_deadline(j, now_s + (due - now_w));
                    return;
                }
                // Every fire in [due, now_w]; more than one only after a jump or a stall.
                std::vector<WallTime> fires{due};
                std::uint64_t total = 1;
                if (j.kind == Trigger::Kind::cron) {
                    const auto& schedule = j.cron()->schedule;
                    for (auto f = schedule.next(due); f && *f <= now_w; f = schedule.next(*f)) {
                        if (fires.size() < 10'000) fires.push_back(*f);
                        if (++total >= 1'000'000) break;
                    }
                }
                const auto grace = options.misfire_grace_;
                const auto late = [&](WallTime f) { return now_w - f > grace; };
                const std::uint64_t missed =
                    static_cast<std::uint64_t>(std::count_if(fires.begin(), fires.end(), late)) +
                    (total - fires.size());
                constexpr bool fire = true;
                if (missed == 0) {
                    for (auto f : fires) queue_run(j, f, runs, fire);
                } else {
                    switch (j.misfire_mode) {
                        case Misfire::Mode::fire_once:
                            queue_run(j, fires.back(), runs, fire);
                            if (total > 1) note_misfire(j, fires.front(), total - 1, false);
                            break;
                        case Misfire::Mode::skip:
                            for (auto f : fires)
                                if (!late(f)) queue_run(j, f, runs, fire);
                            note_misfire(j, fires.front(), missed, true);
                            break;
                        case Misfire::Mode::fire_all: {
                            const std::size_t n = std::min<std::size_t>(fires.size(), j.misfire_cap());
                            for (std::size_t i = 0; i < n; ++i) queue_run(j, fires[i], runs, fire);
                            if (total > n) note_misfire(j, fires[n], total - n, false);
                            break;
                        }
                    }
                }
                if (auto* c = j.cron()) c->last_fire = fires.back();
                if (j.kind == Trigger::Kind::at) j.done = true;
                // Fires reported rather than queued are done now; queued ones
                // when their run ends. Not synced here (the timer thread must
                // not wait for a disk): a report lost in a crash is made again.
                (void)record_fires_done(j);
                j.set_next_wall(std::nullopt);
                arm(j, now_s, now_w);
                return;
            }
            case Trigger::Kind::after:
                queue_run(j, now_w, runs);
                j.done = true;
                return;
            case Trigger::Kind::every_fixed_rate: {
                queue_run(j, now_w, runs);
                auto next = j.next_steady() + j.period();
                if (next <= now_s) {  // fell behind: one run now, the rest are misfires
                    const auto behind = (now_s - next) / j.period() + 1;
                    next += behind * j.period();
                    j.set_next_steady(next);
                    note_misfire(j, now_w, static_cast<std::uint64_t>(behind), true);
                }
                j.set_next_steady(next);
                arm(j, now_s, now_w);
                return;
            }
            case Trigger::Kind::every_fixed_delay:
                queue_run(j, now_w, runs);
                j.set_next_steady(SteadyTime{});  // armed again when the run ends
                return;
        }
    }

    // After a wall-clock jump, wall-based deadlines are recomputed.
    void rearm_wall_jobs(SteadyTime now_s, WallTime now_w) {
        by_name.for_each([&](JobState* j) {
            if (j->armed() && j->next_wall()) set_deadline(*j, now_s + (*j->next_wall() - now_w));
        });
    }

    void submit(std::vector<PendingRun>& runs) {
        const bool may_drop = options.executor_.overflow == OverflowPolicy::drop_oldest;
        for (auto& r : runs) {
            Task task;
            task.priority = r.job->priority();
            task.queue = r.job->queue();
            task.run = [this, r] { run_job(r); };
            if (may_drop) {
                task.dropped = [this, r] {
                    emit(event(EventKind::dropped, r.job->name(), r.scheduled));
                    log.warn("job '{}': run dropped, backlog full", r.job->name());
                    finish_unstarted(r);
                };
            }
            const auto result = executor.submit(std::move(task));
            if (result != SubmitResult::accepted) {
                emit(event(EventKind::rejected, r.job->name(), r.scheduled));
                log.warn("job '{}': run rejected ({})", r.job->name(),
                         result == SubmitResult::stopped ? "executor stopped" : "backlog full");
                finish_unstarted(r);
            }
        }
        runs.clear();
    }

    // A run that was rejected or dropped: reported, so its fire is done.
    void finish_unstarted(const PendingRun& r) {
        JobState* dead = nullptr;
        std::uint64_t seq = 0;
        {
            const std::lock_guard lock(mutex);
            leave_queue(*r.job);
            if (r.fire && r.attempt == 1) seq = fire_done(*r.job, r.scheduled);
            dead = release_run(*r.job);
        }
        sync_record(seq);
        JobState::destroy(dead);
    }
    void leave_queue(JobState& j) {
        --queued_runs;
        if (j.coalesce) --j.extra->queued;
    }

    void unlink_active(ActiveRun* run) {
        for (ActiveRun** p = &active_runs; *p != nullptr; p = &(*p)->next) {
            if (*p == run) {
                *p = run->next;
                return;
            }
        }
    }

    [[nodiscard]] bool has_active_run(const JobState& j) const {
        for (const ActiveRun* r = active_runs; r != nullptr; r = r->next)
            if (r->job == &j) return true;
        return false;
    }

    void request_stop_of(const JobState& j) {
        for (ActiveRun* r = active_runs; r != nullptr; r = r->next)
            if (r->job == &j) r->stop->request_stop();
    }

    void run_job(const PendingRun& r) {
        JobState& j = *r.job;
        const WallTime scheduled = r.scheduled;
        std::stop_source stop;
        ActiveRun active{&j, &stop, nullptr};
        active.deadline.run = &active;
        active.stuck_check.run = &active;
        std::uint64_t run_number = 0;
        std::uint64_t seed = 0;
        bool overlapping = false;
        {
            std::unique_lock lock(mutex);
            leave_queue(j);
            // A run cancelled at stop() is not done: its fire stays open in
            // the store, for the next start's misfire policy.
            if (j.removed || cancel_queued) {
                JobState* dead = release_run(j);
                lock.unlock();
                JobState::destroy(dead);
                return;
            }
            if (r.attempt == 1) ++j.run_count;
            else ++j.extra_state().retries;
            run_number = j.run_count;
            seed = rng();
            overlapping = j.skip_overlap && has_active_run(j);
            active.next = active_runs;
            active_runs = &active;
        }
        if (overlapping) {
            end_run(r, active, nullptr, Outcome::skipped, "previous run still running", {});
            return;
        }
        JobContext ctx(j.name(), scheduled, stop.get_token(), run_number, clock);
        Scheduler::prepare_attempt(ctx, r.attempt, r.attempt == 1 ? ctx.attempt_started() : r.run_started,
                                   r.previous_delay, seed, [this, &active](SteadyTime deadline) {
                                       const std::lock_guard lock(mutex);
                                       arm_aux(active.deadline, deadline);
                                   });
        Event start_event = event(EventKind::started, j.name(), scheduled);
        start_event.attempt = r.attempt;
        emit(start_event);
        auto [outcome, error, duration] = call_job(j, ctx, stop);
        end_run(r, active, &ctx, outcome, std::move(error), duration);
    }

    struct Ended {
        Outcome outcome = Outcome::succeeded;
        std::string error;
        std::chrono::steady_clock::duration duration{};
    };
    Ended call_job(JobState& j, JobContext& ctx, const std::stop_source& stop) {
        Ended r;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            j.fn(ctx);
            if (ctx.failure_reported()) {
                r.outcome = Outcome::failed;
                r.error = *ctx.failure_reported();
            } else if (ctx.skip_reported()) {
                r.outcome = Outcome::skipped;
                r.error = *ctx.skip_reported();
            }
        } catch (const TimeoutError& e) {
            r.outcome = Outcome::timed_out;
            r.error = e.what();
        } catch (const SkipRun& e) {
            r.outcome = Outcome::skipped;
            r.error = e.what();
        } catch (const std::exception& e) {
            r.outcome = Outcome::failed;
            r.error = e.what();
        } catch (...) {
            r.outcome = Outcome::failed;
            r.error = "unknown exception";
        }
        r.duration = std::chrono::steady_clock::now() - t0;
        if (r.outcome == Outcome::succeeded && stop.stop_requested()) r.outcome = Outcome::cancelled;
        return r;
    }

    // The attempt r ended (ctx is null when it never ran: an overlap skip).
    void end_run(const PendingRun& r, ActiveRun& active, JobContext* ctx, Outcome outcome, std::string error,
                 std::chrono::steady_clock::duration duration) {
        JobState& j = *r.job;
        const WallTime scheduled = r.scheduled;
        if (outcome == Outcome::failed || outcome == Outcome::timed_out)
            log.error("job '{}' attempt {} {}: {}", j.name(), r.attempt, to_string(outcome), error);
        else if (outcome == Outcome::skipped) log.debug("job '{}' skipped: {}", j.name(), error);
        else
            log.debug("job '{}' finished in {} us", j.name(),
                      std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
        Event finished = event(EventKind::finished, j.name(), scheduled);
        finished.outcome = outcome;
        finished.duration = duration;
        finished.error = error;
        finished.attempt = r.attempt;
        emit(finished);

        const bool failed = outcome == Outcome::failed || outcome == Outcome::timed_out;
        std::optional<DeadLetter> dead_letter;
        std::optional<milliseconds> retry_delay;
        JobState* dead = nullptr;
        bool events_pending = false;
        std::uint64_t fire_seq = 0;
        {
            const std::lock_guard lock(mutex);
            unlink_active(&active);
            idle_cv.notify_all();  // stop() waits for the runs it asked to stop
            disarm_aux(active.deadline);
            disarm_aux(active.stuck_check);
            if (active.stuck) --stuck;
            j.last_outcome = outcome;
            if (outcome == Outcome::skipped) ++j.extra_state().skips;
            if (!error.empty() || (j.extra && !j.extra->last_error.empty())) j.extra_state().last_error = error;
            if (ctx != nullptr && failed && ctx->retry_requested() && !j.removed && !stopping) {
                retry_delay = *ctx->retry_requested();
                schedule_retry(PendingRun{&j, scheduled, r.attempt + 1, ctx->run_started(), *retry_delay},
                               *retry_delay);
                Event e = event(EventKind::retrying, j.name(), scheduled);
                e.attempt = r.attempt + 1;
                e.delay = *retry_delay;
                e.error = error;
                defer(e);
            } else if (ctx != nullptr && failed && ctx->dead_letter_requested()) {
                dead_letter = DeadLetter{next_dead_letter++, std::string(j.name()),         scheduled,
                                         r.attempt,          *ctx->dead_letter_requested(), clock.wall_now()};
                dead_letters.push_back(*dead_letter);
                (void)journal.submit(
                    store::DeadLetterAdded{dead_letter->id, dead_letter->job, to_ms(scheduled), r.attempt,
                                           dead_letter->error, to_ms(dead_letter->failed_at)});
                Event e = event(EventKind::dead_lettered, j.name(), scheduled);
                e.attempt = r.attempt;
                e.error = dead_letter->error;
                defer(e);
            }
            // After the retry record: once the fire counts as done, its retry is in the store.
            if (r.fire && r.attempt == 1) fire_seq = fire_done(j, scheduled);
            if (!retry_delay && j.kind == Trigger::Kind::every_fixed_delay && !j.armed()) {
                const auto now_s = clock.steady_now();
                j.set_next_steady(now_s + j.period());
                arm(j, now_s, clock.wall_now());
            }
            // With events to deliver, the run stays in flight until they are:
            // wait_idle() then means every event of the run has been seen.
            events_pending = !deferred.empty();
            if (!events_pending && fire_seq == 0) dead = release_run(j);
        }
        if (dead_letter)
            log.error("job '{}' gave up after {} attempt(s): {}", j.name(), dead_letter->attempts, dead_letter->error);
        if (events_pending || fire_seq != 0) {
            sync_record(fire_seq);  // on this worker: never on the timer thread
            flush_events();
            const std::lock_guard lock(mutex);
            dead = release_run(j);
        }
        JobState::destroy(dead);
    }

    void timer_loop(const std::stop_token& token) {
#ifdef __linux__
        // The default 50 us timer slack would add straight to every fire's
        // lateness; this thread sleeps rarely enough that 1 us costs nothing.
        (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
#endif
        std::unique_lock lock(mutex);
        std::vector<PendingRun> runs;
        while (!stopping && !token.stop_requested()) {
            const std::uint64_t generation = clock.generation();
            const SteadyTime now_s = clock.steady_now();
            const WallTime now_w = clock.wall_now();
            const auto expected_wall = last_wall + std::chrono::duration_cast<milliseconds>(now_s - last_steady);
            const auto jump = now_w - expected_wall;
            if (jump > milliseconds{250} || jump < milliseconds{-250}) {
                log.info("wall clock jumped by {} ms; re-arming wall-clock jobs", jump.count());
                rearm_wall_jobs(now_s, now_w);
            }
            last_steady = now_s;
            last_wall = now_w;

            // Timers are cancelled before their record is destroyed, so a
            // fired timer always names a live record.
            while (JobState* j = timers.pop_due(now_s)) on_timer(*j, now_s, now_w, runs);
            while (auto fired = aux_timers.pop_due(now_s))
                on_aux_timer(*reinterpret_cast<AuxTimer*>(static_cast<std::uintptr_t>(fired->payload)), runs);
            if (!runs.empty() || !deferred.empty() || !due_callbacks.empty()) {
                auto callbacks_now = std::move(due_callbacks);
                due_callbacks.clear();
                lock.unlock();
                flush_events();
                submit(runs);
                for (auto& fn : callbacks_now) fn();
                const std::size_t ran = callbacks_now.size();
                callbacks_now.clear();  // destroyed unlocked
                lock.lock();
                inflight -= ran;
                if (ran != 0) idle_cv.notify_all();
                continue;
            }
            seen_generation = generation;
            idle_cv.notify_all();
            if (wake) {
                wake = false;
                continue;
            }
            if (clock.is_manual()) {
                wake_cv.wait(lock, [&] { return stopping || wake || token.stop_requested(); });
            } else {
                auto deadline = now_s + options.wall_check_;
                if (auto due = timers.next_due(); due && *due < deadline) deadline = *due;
                if (auto due = aux_timers.next_due(); due && *due < deadline) deadline = *due;
                wake_cv.wait_until(lock, deadline, [&] { return stopping || wake || token.stop_requested(); });
            }
            wake = false;
        }
        timer_exited = true;
        idle_cv.notify_all();
    }

    // The jobs (once each) with a run in progress, removed ones aside (they
    // were asked to stop when removed).
    std::vector<std::string> running_job_names() const {
        std::vector<std::string> names;
        for (const ActiveRun* r = active_runs; r != nullptr; r = r->next) {
            const std::string_view name = r->job->name();
            if (!r->job->removed && std::find(names.begin(), names.end(), name) == names.end())
                names.emplace_back(name);
        }
        return names;
    }

    bool idle_now() const {
        if (inflight != 0) return false;
        if (!started || stopping) return true;
        if (seen_generation != clock.generation() || wake || !deferred.empty()) return false;
        const auto now = clock.steady_now();
        const auto due = timers.next_due();
        const auto aux_due = aux_timers.next_due();
        return (!due || *due > now) && (!aux_due || *aux_due > now);
    }

    JobState* find(std::string_view name) const {
        return by_name.find(name);
    }

    JobInfo info_of(const JobState& j) const {
        JobInfo info;
        info.name = std::string(j.name());
        info.schedule = schedule_text(j);
        if (auto w = j.next_wall()) {
            info.next_fire = w;
        } else if (!j.wall_based() && j.armed() && !j.paused) {
            info.next_fire =
                clock.wall_now() + std::chrono::duration_cast<milliseconds>(j.next_steady() - clock.steady_now());
        }
        info.last_outcome = j.last_outcome;
        info.run_count = j.run_count;
        info.attempt_count = j.run_count;
        if (j.extra) {
            info.last_error = j.extra->last_error;
            info.misfire_count = j.extra->misfire_count;
            info.attempt_count += j.extra->retries;
            info.skip_count = j.extra->skips;
        }
        info.paused = j.paused;
        info.running = has_active_run(j);
        return info;
    }
};
// ---------------------------------------------------------------- Scheduler

namespace {
std::shared_ptr<spdlog::logger> default_logger() {
    auto logger = std::make_shared<spdlog::logger>("txflow", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_level(spdlog::level::info);
    return logger;
}
}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : clock_(options.clock_ != nullptr ? options.clock_ : &RealClock::instance()),
      logger_(options.logger_ ? options.logger_ : default_logger()),
      impl_(std::make_unique<Impl>(*this, *clock_, *logger_, std::move(options))) {}

Scheduler::~Scheduler() {
    bool running = false;
    {
        const std::lock_guard lock(impl_->mutex);
        running = impl_->started && !impl_->stopping;
    }
    if (running) stop(milliseconds{0});
    impl_->executor.shutdown();
}

void Scheduler::start() {
    {
        const std::lock_guard lock(impl_->mutex);
        if (impl_->started || impl_->stopping) return;
    }
    start_locked();
    impl_->engine.on_start();  // runs sagas started earlier and recovered ones
    impl_->arm_saga_purge();
}

void Scheduler::start_locked() {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->started || impl_->stopping) return;
    impl_->started = true;
    impl_->last_steady = clock_->steady_now();
    impl_->last_wall = clock_->wall_now();
    impl_->by_name.for_each([&](JobState* j) { impl_->arm(*j, impl_->last_steady, impl_->last_wall); });
    impl_->timer_thread = std::jthread([this](const std::stop_token& token) { impl_->timer_loop(token); });
}

StopReport Scheduler::stop(milliseconds drain_deadline) {
    Impl& im = *impl_;
    StopReport report;
    const auto deadline = std::chrono::steady_clock::now() + drain_deadline;
    std::jthread timer_thread;
    {
        const std::lock_guard lock(im.mutex);
        if (im.stopping) return report;
        im.stopping = true;
        im.notify_timer();
        // Taken under the mutex: start() writes it under the mutex too.
        timer_thread = std::move(im.timer_thread);
    }
    std::unique_lock lock(im.mutex);
    if (timer_thread.joinable()) {
        // The timer thread ends at once, unless it waits in a submit under
        // OverflowPolicy::block: at the deadline the executor stops taking
        // tasks, which releases it.
        if (!im.idle_cv.wait_until(lock, deadline, [&] { return im.timer_exited; })) {
            lock.unlock();
            im.executor.request_shutdown();
            lock.lock();
        }
        lock.unlock();
        timer_thread.join();
        lock.lock();
    }
    report.drained = im.idle_cv.wait_until(lock, deadline, [&] { return im.inflight == 0; });
    if (!report.drained) {
        lock.unlock();
        im.engine.on_stop();  // sagas stop at the next step; a durable store resumes them
        lock.lock();
        im.cancel_queued = true;
        report.dropped_queued = im.queued_runs;  // each returns at once when a worker takes it
        std::vector<std::string> asked = im.running_job_names();
        for (ActiveRun* r = im.active_runs; r != nullptr; r = r->next) r->stop->request_stop();
        (void)im.idle_cv.wait_for(lock, im.options.stop_grace_, [&] { return im.inflight == 0; });
        report.still_running = im.running_job_names();
        for (auto& name : asked) {
            if (std::find(report.still_running.begin(), report.still_running.end(), name) == report.still_running.end())
                report.stopped_on_request.push_back(std::move(name));
        }
        for (const auto& name : report.still_running)
            logger_->warn("stop: job '{}' still running {} ms after the stop request; left running", name,
                          im.options.stop_grace_.count());
    }
    // Retries waiting on the timer will not fire any more.
    const auto dead = im.drop_retries(nullptr);
    const bool idle = im.inflight == 0;
    lock.unlock();
    for (JobState* j : dead) JobState::destroy(j);
    im.engine.on_stop();
    // Joining would wait for whatever still runs; the destructor does that.
    if (idle) im.executor.shutdown();
    else im.executor.request_shutdown();
    return report;
}

// ---------------------------------------------------------------- sagas

SagaHandle Scheduler::start_saga(const SagaRef& saga, nlohmann::json input, std::string idempotency_key) {
    auto started = impl_->engine.start(saga, std::move(input), std::move(idempotency_key));
    return SagaHandle(this, std::move(started.id), started.created);
}

void Scheduler::register_saga(const SagaRef& saga) {
    if (!saga) throw std::invalid_argument("register_saga: no saga definition");
    impl_->engine.register_definition(saga);
}

std::optional<saga::Info> Scheduler::saga(std::string_view id) const {
    return impl_->engine.info(id);
}

std::vector<saga::Info> Scheduler::sagas(std::optional<saga::State> state) const {
    return impl_->engine.list(state);
}

bool Scheduler::retry_compensation(std::string_view id) {
    return impl_->engine.retry_compensation(id);
}

bool Scheduler::resolve_compensation(std::string_view id, std::string note) {
    return impl_->engine.resolve_compensation(id, std::move(note));
}

bool Scheduler::cancel_saga(std::string_view id, std::string reason) {
    return impl_->engine.cancel(id, std::move(reason));
}

std::size_t Scheduler::purge_sagas() {
    return impl_->engine.purge(clock_->wall_now() - impl_->options.saga_retention_);
}

std::optional<saga::Info> Scheduler::wait_saga(std::string_view id, milliseconds timeout) const {
    return impl_->engine.wait(id, timeout);
}

std::optional<saga::Info> SagaHandle::info() const {
    return scheduler_ ? scheduler_->saga(id_) : std::nullopt;
}

std::optional<saga::Info> SagaHandle::wait(milliseconds timeout) const {
    return scheduler_ ? scheduler_->wait_saga(id_, timeout) : std::nullopt;
}

JobHandle JobBuilder::run(const SagaRef& saga, nlohmann::json input) {
    if (!saga) throw ScheduleError(fmt::format("job '{}': no saga definition", name_));
    scheduler_.register_saga(saga);
    Scheduler* s = &scheduler_;
    return run([s, saga, input = std::move(input)](JobContext& ctx) {
        const auto key =
            fmt::format("{}@{}", ctx.job_name(), cron::to_rfc3339(ctx.scheduled_time(), cron::Zone::utc()));
        s->start_saga(saga, input, key);
    });
}

std::vector<DeadLetter> Scheduler::dead_letters() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->dead_letters;
}

bool Scheduler::rerun_dead_letter(std::uint64_t id) {
    std::vector<PendingRun> runs;
    {
        const std::lock_guard lock(impl_->mutex);
        auto& letters = impl_->dead_letters;
        auto it = std::find_if(letters.begin(), letters.end(), [id](const DeadLetter& d) { return d.id == id; });
        if (it == letters.end() || impl_->stopping) return false;
        JobState* j = impl_->find(it->job);
        if (j == nullptr) return false;
        impl_->queue_run(*j, it->scheduled, runs);
        (void)impl_->journal.submit(store::DeadLetterRemoved{it->id});
        letters.erase(it);
    }
    impl_->submit(runs);
    return true;
}

std::size_t Scheduler::clear_dead_letters() {
    const std::lock_guard lock(impl_->mutex);
    const std::size_t n = impl_->dead_letters.size();
    for (const auto& d : impl_->dead_letters) (void)impl_->journal.submit(store::DeadLetterRemoved{d.id});
    impl_->dead_letters.clear();
    return n;
}

std::size_t Scheduler::stuck_workers() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->stuck;
}

std::shared_ptr<CircuitBreaker> Scheduler::breaker(std::string_view name, const BreakerOptions& options) {
    const bool existed = impl_->breakers.find(name) != nullptr;
    auto b = impl_->breakers.get(name, options);
    if (!existed) {
        // State changes are events; the breaker calls this outside its own lock.
        b->on_state_change([impl = impl_.get()](std::string_view breaker, BreakerState from, BreakerState to) {
            const std::string detail = fmt::format("{}->{}", to_string(from), to_string(to));
            impl->log.warn("circuit breaker '{}': {}", breaker, detail);
            Event e = event(EventKind::breaker, breaker, impl->clock.wall_now());
            e.detail = detail;
            impl->emit(e);
        });
    }
    return b;
}

std::shared_ptr<CircuitBreaker> Scheduler::breaker(std::string_view name) const {
    return impl_->breakers.find(name);
}

std::shared_ptr<TokenBucket> Scheduler::rate_limiter(std::string_view name, double per_second, double burst) {
    const std::lock_guard lock(impl_->mutex);
    auto& bucket = impl_->rate_limiters[std::string(name)];
    if (!bucket) bucket = std::make_shared<TokenBucket>(per_second, burst, *clock_);
    return bucket;
}

void Scheduler::prepare_attempt(JobContext& ctx, std::uint32_t attempt, SteadyTime run_started,
                                milliseconds previous_delay, std::uint64_t seed,
                                std::function<void(SteadyTime)> on_deadline) {
    ctx.attempt_ = attempt;
    ctx.run_started_ = run_started;
    ctx.previous_delay_ = previous_delay;
    ctx.seed_ = seed;
    ctx.on_deadline_ = std::move(on_deadline);
}

void Scheduler::wait_idle() {
    std::unique_lock lock(impl_->mutex);
    impl_->idle_cv.wait(lock, [&] { return impl_->idle_now(); });
}

std::vector<JobInfo> Scheduler::jobs() const {
    const std::lock_guard lock(impl_->mutex);
    std::vector<JobInfo> out;
    out.reserve(impl_->by_name.size());
    impl_->by_name.for_each([&](const JobState* j) { out.push_back(impl_->info_of(*j)); });
    std::sort(out.begin(), out.end(), [](const JobInfo& a, const JobInfo& b) { return a.name < b.name; });
    return out;
}

std::optional<JobHandle> Scheduler::find(std::string_view name) {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->find(name)) return std::nullopt;
    return JobHandle(this, std::string(name));
}

JobHandle Scheduler::add(JobBuilder& b, JobFunction fn) {
    if (b.name_.empty()) throw ScheduleError("job name must not be empty");
    if (!b.trigger_) throw ScheduleError(fmt::format("job '{}' has no trigger (cron, every, after or at)", b.name_));
    if (!fn) throw ScheduleError(fmt::format("job '{}' has no function", b.name_));
    if (b.name_.size() > std::numeric_limits<std::uint32_t>::max()) throw ScheduleError("job name too long");
    const Trigger& trigger = *b.trigger_;
    std::optional<JobState::CronTrigger> cron_trigger;
    if (trigger.kind == Trigger::Kind::cron) {
        std::optional<cron::Schedule> schedule = trigger.schedule;
        if (!b.cron_text_.empty()) {
            auto parsed = cron::parse(b.cron_text_, b.cron_format_);
            if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", b.name_, parsed.error().message()));
            schedule = *parsed;
        }
        if (!b.zone_.empty()) {
            const cron::Zone* zone = cron::Zone::find(b.zone_);
            if (zone == nullptr)
                throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", b.name_, b.zone_));
            schedule = schedule->in_zone(*zone);
        }
        std::string text = b.cron_text_.empty() ? schedule->to_string() : b.cron_text_;
        cron_trigger.emplace(JobState::CronTrigger{*schedule, std::move(text), std::nullopt, std::nullopt});
    } else if (!b.zone_.empty()) {
        throw ScheduleError(fmt::format("job '{}': in_zone() applies to cron jobs only", b.name_));
    }
    if ((trigger.kind == Trigger::Kind::every_fixed_rate || trigger.kind == Trigger::Kind::every_fixed_delay) &&
        trigger.period <= milliseconds{0})
        throw ScheduleError(fmt::format("job '{}': every() needs a positive period", b.name_));

    struct Destroy {
        void operator()(JobState* j) const noexcept { JobState::destroy(j); }
    };
    std::unique_ptr<JobState, Destroy> j(JobState::create(b.name_));
    j->kind = trigger.kind;
    j->set_cron(std::move(cron_trigger));
    if (trigger.kind == Trigger::Kind::at) j->set_at(trigger.at);
    else j->set_period(trigger.period);
    // Policies: the scheduler-wide ones outermost, then the job's in the order
    // written. A timeout with a retry inside it bounds the whole run.
    std::vector<Wrapper> wrappers = impl_->options.default_wrappers_;
    for (const auto& rate : impl_->options.queue_rates_) {
        if (!b.queue_.empty() && rate.queue == b.queue_)
            wrappers.push_back(policies::rate_limit(rate_limiter("queue:" + rate.queue, rate.per_second, rate.burst)));
    }
    for (std::size_t i = 0; i < b.steps_.size(); ++i) {
        const auto& step = b.steps_[i];
        if (step.timeout.count() > 0) {
            const bool retry_inside = std::any_of(b.steps_.begin() + static_cast<std::ptrdiff_t>(i) + 1, b.steps_.end(),
                                                  [](const JobBuilder::Step& s) { return s.is_retry; });
            wrappers.push_back(policies::timeout(
                step.timeout, retry_inside ? policies::TimeoutScope::run : policies::TimeoutScope::attempt));
        } else {
            wrappers.push_back(step.wrapper);
        }
    }
    j->fn = policies::chain(std::move(fn), wrappers);
    j->set_priority(b.priority_);
    if (b.jitter_.count() > 0) j->extra_state().jitter = b.jitter_;
    const Misfire misfire = b.misfire_.value_or(impl_->options.misfire_);
    j->misfire_mode = misfire.mode;
    if (misfire.mode == Misfire::Mode::fire_all) j->extra_state().misfire_cap = misfire.cap;
    j->skip_overlap = b.skip_if_running_;
    j->coalesce = b.coalesce_;
    if (b.coalesce_) (void)j->extra_state();

    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw ScheduleError(fmt::format("job '{}': the scheduler is stopping", b.name_));
    if (impl_->by_name.find(b.name_) != nullptr)
        throw ScheduleError(fmt::format("a job named '{}' already exists", b.name_));
    j->set_queue(impl_->queue_id(b.queue_));
    JobState& record = *j;
    impl_->by_name.insert(j.get());
    j.release();  // owned by the index now
    impl_->restore(record);
    impl_->arm(record, clock_->steady_now(), clock_->wall_now());
    return JobHandle(this, b.name_);
}

// ---------------------------------------------------------------- JobBuilder

JobBuilder& JobBuilder::cron(std::string_view expression, cron::Format format) {
    trigger_ = Trigger{Trigger::Kind::cron, std::nullopt, milliseconds{0}, WallTime{}};
    cron_text_ = std::string(expression);
    cron_format_ = format;
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Schedule& schedule) {
    trigger_ = Trigger{Trigger::Kind::cron, schedule, milliseconds{0}, WallTime{}};
    cron_text_.clear();
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Spec& spec) {
    // A "..."_cron literal: checked by the compiler, except whether its zone exists.
    const std::string_view zone = spec.zone_name();
    if (!zone.empty() && cron::Zone::find(zone) == nullptr)
        throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", name_, zone));
    return cron(cron::Schedule(spec));
}

JobBuilder& JobBuilder::every(milliseconds period) {
    trigger_ = Trigger{Trigger::Kind::every_fixed_rate, std::nullopt, period, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::every_fixed_delay(milliseconds delay) {
    trigger_ = Trigger{Trigger::Kind::every_fixed_delay, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::after(milliseconds delay) {
    trigger_ = Trigger{Trigger::Kind::after, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::at(WallTime when) {
    trigger_ = Trigger{Trigger::Kind::at, std::nullopt, milliseconds{0}, when};
    return *this;
}

JobBuilder& JobBuilder::in_zone(std::string_view zone) {
    zone_ = std::string(zone);
    return *this;
}

JobBuilder& JobBuilder::recover() {
    steps_.push_back({policies::recover()});
    return *this;
}

JobBuilder& JobBuilder::retry(retry::Policy policy) {
    steps_.push_back({policies::retry(std::move(policy)), true});
    return *this;
}

JobBuilder& JobBuilder::timeout(milliseconds limit) {
    if (limit <= milliseconds{0}) throw ScheduleError(fmt::format("job '{}': timeout must be positive", name_));
    steps_.push_back({{}, false, limit});
    return *this;
}

JobBuilder& JobBuilder::skip_if_running() {
    skip_if_running_ = true;  // checked by the scheduler before the run starts
    return *this;
}

JobBuilder& JobBuilder::delay_if_running() {
    steps_.push_back({policies::delay_if_running()});
    return *this;
}

JobBuilder& JobBuilder::circuit_breaker(std::shared_ptr<CircuitBreaker> breaker, JobFunction fallback) {
    if (!breaker) throw ScheduleError(fmt::format("job '{}': circuit_breaker() needs a breaker", name_));
    steps_.push_back({policies::circuit_breaker(std::move(breaker), std::move(fallback))});
    return *this;
}

JobBuilder& JobBuilder::circuit_breaker(std::string_view name, const BreakerOptions& options, JobFunction fallback) {
    return circuit_breaker(scheduler_.breaker(name, options), std::move(fallback));
}

JobBuilder& JobBuilder::rate_limit(double runs_per_second, double burst) {
    return rate_limit(std::make_shared<TokenBucket>(runs_per_second, burst, scheduler_.clock()));
}

JobBuilder& JobBuilder::rate_limit(std::shared_ptr<TokenBucket> bucket) {
    if (!bucket) throw ScheduleError(fmt::format("job '{}': rate_limit() needs a bucket", name_));
    steps_.push_back({policies::rate_limit(std::move(bucket))});
    return *this;
}

JobBuilder& JobBuilder::wrap(Wrapper wrapper) {
    if (!wrapper) throw ScheduleError(fmt::format("job '{}': wrap() needs a wrapper", name_));
    steps_.push_back({std::move(wrapper)});
    return *this;
}

JobHandle JobBuilder::run(JobFunction fn) {
    return scheduler_.add(*this, std::move(fn));
}

// ---------------------------------------------------------------- JobHandle

bool JobHandle::pause() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    j->paused = true;
    impl.disarm(*j);
    j->set_next_wall(std::nullopt);
    return true;
}

bool JobHandle::resume() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    if (!j->paused) return true;
    j->paused = false;
    const auto now_s = impl.clock.steady_now();
    const auto now_w = impl.clock.wall_now();
    // Fires missed while paused are not caught up: resume counts from now.
    if (j->kind == Trigger::Kind::cron) j->cron()->last_fire = now_w;
    if (j->kind == Trigger::Kind::every_fixed_rate || j->kind == Trigger::Kind::every_fixed_delay)
        j->set_next_steady(now_s + j->period());
    if (!j->armed()) impl.arm(*j, now_s, now_w);
    return true;
}

bool JobHandle::remove() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    JobState* dead = nullptr;
    {
        const std::lock_guard lock(impl.mutex);
        JobState* j = impl.find(name_);
        if (j == nullptr) return false;
        j->removed = true;
        impl.disarm(*j);
        impl.request_stop_of(*j);
        impl.by_name.erase(j);
        for (JobState* gone : impl.drop_retries(j)) dead = gone;
        if (j->pending == 0) dead = j;  // otherwise the last run destroys it
        impl.idle_cv.notify_all();
    }
    JobState::destroy(dead);
    return true;
}

bool JobHandle::trigger_now() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    std::vector<PendingRun> runs;
    {
        const std::lock_guard lock(impl.mutex);
        auto j = impl.find(name_);
        if (!j || impl.stopping) return false;
        impl.queue_run(*j, impl.clock.wall_now(), runs);
    }
    impl.submit(runs);
    return true;
}

bool JobHandle::reschedule_cron(std::string_view expression) {
    if (scheduler_ == nullptr) return false;
    auto parsed = cron::parse(expression);
    if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", name_, parsed.error().message()));
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    const cron::Zone* zone = j->cron() ? &j->cron()->schedule.zone() : nullptr;
    std::optional<JobState::CronTrigger> cron_trigger(JobState::CronTrigger{
        zone ? parsed->in_zone(*zone) : *parsed, std::string(expression), std::nullopt, std::nullopt});
    (void)j->extra_state();  // the one allocation, before anything changes
    impl.disarm(*j);
    j->kind = Trigger::Kind::cron;
    j->set_cron(std::move(cron_trigger));
    j->set_next_wall(std::nullopt);
    j->done = false;
    impl.arm(*j, impl.clock.steady_now(), impl.clock.wall_now());
    return true;
}

bool JobHandle::reschedule_every(milliseconds period) {
    if (scheduler_ == nullptr) return false;
    if (period <= milliseconds{0}) throw ScheduleError(fmt::format("job '{}': every() needs a positive period", name_));
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    impl.disarm(*j);
    j->kind = Trigger::Kind::every_fixed_rate;
    j->set_cron(std::nullopt);
    j->set_period(period);
    j->done = false;
    const auto now_s = impl.clock.steady_now();
    j->set_next_steady(now_s + period);
    impl.arm(*j, now_s, impl.clock.wall_now());
    return true;
}

std::optional<JobInfo> JobHandle::info() const {
    if (scheduler_ == nullptr) return std::nullopt;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return std::nullopt;
    return impl.info_of(*j);
}

}  // namespace txflow
