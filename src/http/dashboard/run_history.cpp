// RunHistory: the dashboard's memory of recent runs, fed by scheduler events.

#include "txflow/http/run_history.hpp"

#include <algorithm>

namespace txflow::http {
namespace {

// Hex of the event's span ids; empty when the event carries none (no tracer).
void set_trace(RunRecord& run, const Event& event) {
    if (event.trace_id == observe::TraceId{}) return;
    run.trace_id = observe::to_hex(event.trace_id.data(), event.trace_id.size());
    run.span_id = observe::to_hex(event.span_id.data(), event.span_id.size());
}

}  // namespace

using std::chrono::duration_cast;
using std::chrono::milliseconds;

RunHistory::RunHistory(std::size_t per_job, const Clock* clock)
    : per_job_(std::max<std::size_t>(per_job, 1)), clock_(clock) {}

WallTime RunHistory::now() const {
    if (clock_ != nullptr) return clock_->wall_now();
    return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

void RunHistory::on_event(const Event& event) {
    if (event.kind == EventKind::breaker) {
        const std::lock_guard lock(mutex_);
        breakers_.emplace(event.job);
        return;
    }
    if (event.kind != EventKind::started && event.kind != EventKind::finished) return;
    const WallTime at = now();
    const std::lock_guard lock(mutex_);
    auto it = runs_.find(event.job);
    if (it == runs_.end()) it = runs_.emplace(std::string(event.job), std::deque<RunRecord>{}).first;
    std::deque<RunRecord>& ring = it->second;
    if (event.kind == EventKind::started) {
        RunRecord run;
        run.job = std::string(event.job);
        run.fire_time = event.fire_time;
        run.started = at;
        run.attempt = event.attempt;
        run.lateness = std::max(milliseconds{0}, duration_cast<milliseconds>(at - event.fire_time));
        set_trace(run, event);
        ring.push_back(std::move(run));
        while (ring.size() > per_job_) ring.pop_front();
        return;
    }
    count_finished(at, event.outcome);
    // The newest matching started record; a finish without a start (skipped) gets its own.
    auto match = std::find_if(ring.rbegin(), ring.rend(), [&](const RunRecord& r) {
        return r.outcome == Outcome::none && r.fire_time == event.fire_time && r.attempt == event.attempt;
    });
    if (match == ring.rend()) {
        RunRecord run;
        run.job = std::string(event.job);
        run.fire_time = event.fire_time;
        run.started = at;
        run.attempt = event.attempt;
        ring.push_back(std::move(run));
        while (ring.size() > per_job_) ring.pop_front();
        match = ring.rbegin();
    }
    match->outcome = event.outcome;
    match->duration = duration_cast<milliseconds>(event.duration);
    match->error = std::string(event.error);
    if (match->trace_id.empty()) set_trace(*match, event);
}

void RunHistory::count_finished(WallTime at, Outcome outcome) {
    const std::int64_t minute = std::chrono::floor<std::chrono::minutes>(at).time_since_epoch().count();
    if (minutes_.empty() || minutes_.back().minute < minute) minutes_.push_back({minute, 0, 0});
    while (minutes_.size() > 60) minutes_.pop_front();
    MinuteCounts& m = minutes_.back();
    ++m.finished;
    if (outcome == Outcome::failed || outcome == Outcome::timed_out) ++m.failed;
}

std::vector<RunRecord> RunHistory::runs(std::string_view job, std::size_t limit) const {
    const std::lock_guard lock(mutex_);
    std::vector<RunRecord> out;
    const auto it = runs_.find(job);
    if (it == runs_.end()) return out;
    for (auto r = it->second.rbegin(); r != it->second.rend() && out.size() < limit; ++r) out.push_back(*r);
    return out;
}

std::vector<RunRecord> RunHistory::recent(WallTime since) const {
    std::vector<RunRecord> out;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& [name, ring] : runs_)
            for (const RunRecord& r : ring)
                if (r.started >= since) out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) { return a.started < b.started; });
    return out;
}

std::vector<MinuteCounts> RunHistory::last_hour() const {
    const std::int64_t current = std::chrono::floor<std::chrono::minutes>(now()).time_since_epoch().count();
    std::vector<MinuteCounts> out;
    out.reserve(60);
    const std::lock_guard lock(mutex_);
    auto it = minutes_.begin();
    for (std::int64_t m = current - 59; m <= current; ++m) {
        while (it != minutes_.end() && it->minute < m) ++it;
        out.push_back(it != minutes_.end() && it->minute == m ? *it : MinuteCounts{m, 0, 0});
    }
    return out;
}

std::vector<std::string> RunHistory::breakers() const {
    const std::lock_guard lock(mutex_);
    return {breakers_.begin(), breakers_.end()};
}

void RunHistory::forget(std::string_view job) {
    const std::lock_guard lock(mutex_);
    if (const auto it = runs_.find(job); it != runs_.end()) runs_.erase(it);
}

}  // namespace txflow::http
