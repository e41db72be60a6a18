// RunHistory: the dashboard's memory of recent runs, fed by scheduler events.
// Every run passes through on_event, so it stores raw fields in a reused slot
// and leaves names, hex and lateness to the (rare) API calls.

#include "txflow/http/run_history.hpp"

#include <algorithm>

namespace txflow::http {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// One attempt as stored; `error` keeps its capacity from run to run.
struct Slot {
    WallTime fire_time{};
    WallTime started{};
    milliseconds duration{0};
    std::uint32_t attempt = 1;
    Outcome outcome = Outcome::none;
    observe::TraceId trace_id{};
    observe::SpanId span_id{};
    std::string error;
};

void set_trace(Slot& slot, const Event& event) {
    slot.trace_id = event.trace_id;
    slot.span_id = event.span_id;
}

RunRecord to_record(const std::string& job, const Slot& slot) {
    RunRecord run;
    run.job = job;
    run.fire_time = slot.fire_time;
    run.started = slot.started;
    run.attempt = slot.attempt;
    run.duration = slot.duration;
    run.lateness = std::max(milliseconds{0}, duration_cast<milliseconds>(slot.started - slot.fire_time));
    run.outcome = slot.outcome;
    run.error = slot.error;
    if (slot.trace_id != observe::TraceId{}) {
        run.trace_id = observe::to_hex(slot.trace_id.data(), slot.trace_id.size());
        run.span_id = observe::to_hex(slot.span_id.data(), slot.span_id.size());
    }
    return run;
}

}  // namespace

// A job's runs: a vector that grows to per_job slots, then wraps.
struct RunHistory::Ring {
    explicit Ring(std::string name) : job(std::move(name)) {}
    const std::string job;
    mutable std::mutex mutex;
    std::vector<Slot> slots;
    std::size_t newest = 0;  // index of the newest slot (when any)

    // The slot for a new attempt: a fresh one, or the oldest, cleared.
    Slot& push(std::size_t capacity) {
        if (slots.size() < capacity) {
            newest = slots.size();
            return slots.emplace_back();
        }
        newest = newest + 1 == slots.size() ? 0 : newest + 1;
        Slot& slot = slots[newest];
        slot.duration = milliseconds{0};
        slot.outcome = Outcome::none;
        slot.trace_id = {};
        slot.span_id = {};
        slot.error.clear();
        return slot;
    }
    // i = 0: the newest (i < slots.size()).
    [[nodiscard]] std::size_t index_of(std::size_t i) const {
        return i <= newest ? newest - i : newest + slots.size() - i;
    }
    [[nodiscard]] const Slot& nth_newest(std::size_t i) const { return slots[index_of(i)]; }
    Slot& nth_newest(std::size_t i) { return slots[index_of(i)]; }
};

RunHistory::RunHistory(std::size_t per_job, const Clock* clock)
    : per_job_(std::max<std::size_t>(per_job, 1)), clock_(clock) {}

RunHistory::~RunHistory() = default;

WallTime RunHistory::now() const {
    if (clock_ != nullptr) return clock_->wall_now();
    return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

void RunHistory::on_event(const Event& event) {
    if (event.kind == EventKind::breaker) {
        const std::lock_guard lock(breakers_mutex_);
        breakers_.emplace(event.job);
        return;
    }
    if (event.kind != EventKind::started && event.kind != EventKind::finished) return;
    const std::lock_guard jobs(jobs_mutex_);
    auto it = rings_.find(event.job);
    if (it == rings_.end())
        it = rings_.emplace(std::string(event.job), std::make_shared<Ring>(std::string(event.job))).first;
    Ring& ring = *it->second;
    const std::lock_guard lock(ring.mutex);
    if (event.kind == EventKind::started) {
        Slot& slot = ring.push(per_job_);
        slot.fire_time = event.fire_time;
        slot.started = now();
        slot.attempt = event.attempt;
        set_trace(slot, event);
        return;
    }
    // The newest matching started slot; a finish without a start (skipped) gets its own.
    Slot* match = nullptr;
    for (std::size_t i = 0; i < ring.slots.size(); ++i) {
        Slot& slot = ring.nth_newest(i);
        if (slot.outcome == Outcome::none && slot.fire_time == event.fire_time && slot.attempt == event.attempt) {
            match = &slot;
            break;
        }
    }
    if (match == nullptr) {
        match = &ring.push(per_job_);
        match->fire_time = event.fire_time;
        match->started = now();
        match->attempt = event.attempt;
        set_trace(*match, event);
    }
    match->outcome = event.outcome;
    match->duration = duration_cast<milliseconds>(event.duration);
    count_finished(match->started + match->duration, event.outcome);  // the end, without a second clock read
    match->error.assign(event.error);
    if (match->trace_id == observe::TraceId{}) set_trace(*match, event);
}

void RunHistory::count_finished(WallTime at, Outcome outcome) {
    const std::int64_t minute = std::chrono::floor<std::chrono::minutes>(at).time_since_epoch().count();
    const std::lock_guard lock(minutes_mutex_);
    if (minutes_.empty() || minutes_.back().minute < minute) minutes_.push_back({minute, 0, 0});
    while (minutes_.size() > 60) minutes_.pop_front();
    MinuteCounts& m = minutes_.back();
    ++m.finished;
    if (outcome == Outcome::failed || outcome == Outcome::timed_out) ++m.failed;
}

std::shared_ptr<const RunHistory::Ring> RunHistory::find(std::string_view job) const {
    const std::lock_guard jobs(jobs_mutex_);
    const auto it = rings_.find(job);
    return it == rings_.end() ? nullptr : it->second;
}

std::vector<RunRecord> RunHistory::runs(std::string_view job, std::size_t limit) const {
    std::vector<RunRecord> out;
    const std::shared_ptr<const Ring> found = find(job);
    if (!found) return out;
    const Ring& ring = *found;
    const std::lock_guard lock(ring.mutex);
    const std::size_t n = std::min(limit, ring.slots.size());
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(to_record(ring.job, ring.nth_newest(i)));
    return out;
}

std::vector<RunRecord> RunHistory::recent(WallTime since) const {
    std::vector<std::shared_ptr<const Ring>> rings;
    {
        const std::lock_guard jobs(jobs_mutex_);
        rings.reserve(rings_.size());
        for (const auto& entry : rings_) rings.push_back(entry.second);
    }
    std::vector<RunRecord> out;
    for (const auto& ring : rings) {
        const std::lock_guard lock(ring->mutex);
        for (const Slot& slot : ring->slots)
            if (slot.started >= since) out.push_back(to_record(ring->job, slot));
    }
    std::sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) { return a.started < b.started; });
    return out;
}

std::vector<MinuteCounts> RunHistory::last_hour() const {
    const std::int64_t current = std::chrono::floor<std::chrono::minutes>(now()).time_since_epoch().count();
    std::vector<MinuteCounts> out;
    out.reserve(60);
    const std::lock_guard lock(minutes_mutex_);
    auto it = minutes_.begin();
    for (std::int64_t m = current - 59; m <= current; ++m) {
        while (it != minutes_.end() && it->minute < m) ++it;
        out.push_back(it != minutes_.end() && it->minute == m ? *it : MinuteCounts{m, 0, 0});
    }
    return out;
}

std::vector<std::string> RunHistory::breakers() const {
    const std::lock_guard lock(breakers_mutex_);
    return {breakers_.begin(), breakers_.end()};
}

void RunHistory::forget(std::string_view job) {
    const std::lock_guard lock(jobs_mutex_);
    if (const auto it = rings_.find(job); it != rings_.end()) rings_.erase(it);
}

}  // namespace txflow::http
