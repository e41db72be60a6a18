#pragma once
// The per-job record, with its name in the same allocation.

#include "core/intrusive_heap.hpp"
#include "scheduler/job_definition.hpp"
#include "txflow/scheduler.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace txflow {

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
struct JobMetrics;  // scheduler/metrics.hpp

class JobState {
public:
    struct CronTrigger {
        cron::Schedule schedule;
        std::string text;  // as written, or the schedule's own rendering
        std::optional<WallTime> last_fire;
        // Recovered from the store: arm from here, so that fires missed while
        // the process was down go through the misfire policy.
        std::optional<WallTime> catch_up_from;
        // The armed fire is the schedule's next after last_fire: no fire lies
        // between them (so that fire needs no watermark record of its own).
        bool follows_last = false;
    };
    struct Extra {
        std::optional<CronTrigger> cron;  // cron jobs only
        std::string last_error;
        std::uint64_t misfire_count = 0;
        std::chrono::milliseconds jitter{0};
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
        const JobMetrics* metrics = nullptr;  // with SchedulerOptions::metrics: this job's cells
        // Preemption (src/scheduler/preemption.cpp): the saved progress, and the job table's figures.
        std::optional<std::string> checkpoint;
        std::uint64_t preemptions = 0;  // runs of this job asked to yield
        std::string last_victim;        // the run this job's waiting run last displaced
        std::string last_preemptor;     // the job a run of this one last yielded to
        // JobBuilder::trace_parent: the span every run of this job continues (null: each run a new trace).
        std::shared_ptr<const observe::TraceContext> trace_parent{};
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
        return WallTime{std::chrono::milliseconds{next_}};
    }
    void set_next_wall(std::optional<WallTime> w) {
        if (wall_based()) next_ = w ? w->time_since_epoch().count() : kNoTime;
    }
    // every/after: the nominal deadline, before jitter; SteadyTime{} if none.
    [[nodiscard]] SteadyTime next_steady() const {
        return wall_based() || next_ == kNoTime ? SteadyTime{} : SteadyTime{SteadyTime::duration{next_}};
    }
    void set_next_steady(SteadyTime t) { next_ = t.time_since_epoch().count(); }
    [[nodiscard]] std::chrono::milliseconds period() const { return std::chrono::milliseconds{param_}; }
    void set_period(std::chrono::milliseconds d) { param_ = d.count(); }
    [[nodiscard]] WallTime at() const { return WallTime{std::chrono::milliseconds{param_}}; }
    void set_at(WallTime t) { param_ = t.time_since_epoch().count(); }
    static constexpr std::uint32_t kNotArmed = kNotInHeap;
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
    // Read by workers without the scheduler's mutex: like queue(), it looks at
    // `extra` only when a flag fixed at registration says it exists (extra
    // is created lazily under the mutex, so reading the pointer itself would race).
    [[nodiscard]] const JobMetrics* metrics() const { return (fixed_ & kHasMetrics) != 0 ? extra->metrics : nullptr; }
    void set_metrics(const JobMetrics* m) {  // at registration only
        if (m == nullptr) return;
        extra_state().metrics = m;  // never freed or replaced while the record lives
        fixed_ |= kHasMetrics;
    }
    // A flag in the record, not a look into `extra`: every fire asks, and a
    // burst of cron fires would take a cache miss on `extra` for each.
    [[nodiscard]] std::chrono::milliseconds jitter() const {
        return (fixed_ & kHasJitter) != 0 ? extra->jitter : std::chrono::milliseconds{0};
    }
    void set_jitter(std::chrono::milliseconds max) {  // at registration only
        if (max.count() <= 0) return;
        extra_state().jitter = max;
        fixed_ |= kHasJitter;
    }
    // JobBuilder::trace_parent's span, or null; read on every fire.
    [[nodiscard]] const std::shared_ptr<const observe::TraceContext>* trace_parent() const {
        return (fixed_ & kHasTraceParent) != 0 ? &extra->trace_parent : nullptr;
    }
    void set_trace_parent(std::shared_ptr<const observe::TraceContext> parent) {  // at registration only
        if (!parent) return;
        extra_state().trace_parent = std::move(parent);
        fixed_ |= kHasTraceParent;
    }
    // The saved progress (JobContext::checkpoint), behind a flag for the same
    // reason: every run starts and ends by asking whether there is one.
    [[nodiscard]] bool has_checkpoint() const { return has_checkpoint_; }
    [[nodiscard]] const std::optional<std::string>& checkpoint() const {
        static const std::optional<std::string> none;
        return has_checkpoint_ ? extra->checkpoint : none;
    }
    void set_checkpoint(std::string bytes) {
        extra_state().checkpoint = std::move(bytes);
        has_checkpoint_ = true;
    }
    void clear_checkpoint() {
        if (!has_checkpoint_) return;
        extra->checkpoint.reset();
        has_checkpoint_ = false;
    }
    // The last run's error (empty: none); has_error() tells without touching `extra`.
    [[nodiscard]] bool has_error() const { return has_error_; }
    void set_last_error(const std::string& error) {
        if (error.empty() && !has_error_) return;
        extra_state().last_error = error;
        has_error_ = !error.empty();
    }
    [[nodiscard]] std::uint32_t misfire_cap() const { return extra ? extra->misfire_cap : 0; }
    // has_cron_, not extra->cron's own flag: that one sits at the end of the
    // trigger, a cache line of its own that every fire would miss.
    [[nodiscard]] CronTrigger* cron() const { return has_cron_ ? &*extra->cron : nullptr; }
    void set_cron(std::optional<CronTrigger> c) {
        has_cron_ = c.has_value();
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
    std::uint32_t heap_pos = kNotArmed;  // IntrusiveHeap's: index in Impl::timers, kNotArmed if not armed
    std::uint32_t pending = 0;           // runs queued or running; the record outlives them
    Trigger::Kind kind : 3 = Trigger::Kind::after;
    Misfire::Mode misfire_mode : 2 = Misfire::Mode::fire_once;
    Outcome last_outcome : 3 = Outcome::none;
    bool paused : 1 = false;
    bool removed : 1 = false;
    bool done : 1 = false;          // one-shot job that has fired
    bool skip_overlap : 1 = false;  // skip_if_running(): fixed at registration
    bool coalesce : 1 = false;      // fixed at registration
    bool preemptible : 1 = false;   // fixed at registration

private:
    bool has_checkpoint_ : 1 = false;  // extra->checkpoint holds bytes
    bool has_error_ : 1 = false;       // extra->last_error is not empty
    bool has_cron_ : 1 = false;        // extra->cron holds the trigger

    static constexpr std::uint8_t kPriorityMask = 0x3;
    static constexpr std::uint8_t kHasQueue = 0x4;         // extra->queue holds a named queue
    static constexpr std::uint8_t kHasMetrics = 0x8;       // extra->metrics holds this job's cells
    static constexpr std::uint8_t kHasJitter = 0x10;       // extra->jitter is > 0
    static constexpr std::uint8_t kHasTraceParent = 0x20;  // extra->trace_parent is set
    static_assert(static_cast<int>(Priority::critical) <= kPriorityMask);

    explicit JobState(std::uint8_t name_size) : name_size_(name_size) {}
    ~JobState() = default;

    std::uint8_t fixed_ = static_cast<std::uint8_t>(Priority::normal);  // priority | kHas* flags
    std::uint8_t name_size_;                                            // kLongName: see create()
};
static_assert(sizeof(JobState) <= 80, "keep a job record with a short name in glibc's 88-byte class");

}  // namespace txflow
