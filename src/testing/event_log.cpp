// The event recorder behind the fixtures.

#include "txflow/testing/event_log.hpp"

#include "txflow/testing/time.hpp"

namespace txflow::testing {

std::string describe(const RecordedEvent& e) {
    std::string out{to_string(e.kind)};
    out += ' ';
    out += e.job;
    if (e.fire_time != WallTime{}) out += ' ' + utc_text(e.fire_time);
    if (e.kind == EventKind::started || e.kind == EventKind::finished || e.kind == EventKind::retrying)
        out += " attempt " + std::to_string(e.attempt);
    if (e.outcome != Outcome::none) out += std::string(": ") + std::string(to_string(e.outcome));
    if (!e.detail.empty()) out += " [" + e.detail + "]";
    if (!e.error.empty()) out += " (" + e.error + ")";
    return out;
}

void EventLog::on_event(const Event& e) {
    RecordedEvent row{e.kind,     std::string(e.job),   e.fire_time, e.outcome,
                      e.duration, std::string(e.error), e.count,     e.attempt,
                      e.delay,    std::string(e.detail)};
    const std::lock_guard lock(mutex_);
    rows_.push_back(std::move(row));
}

std::vector<RecordedEvent> EventLog::all() const {
    const std::lock_guard lock(mutex_);
    return rows_;
}

std::vector<RecordedEvent> EventLog::of(EventKind kind, std::string_view job) const {
    const std::lock_guard lock(mutex_);
    std::vector<RecordedEvent> out;
    for (const auto& r : rows_)
        if (r.kind == kind && (job.empty() || r.job == job)) out.push_back(r);
    return out;
}

std::uint64_t EventLog::count(EventKind kind, std::string_view job) const {
    const std::lock_guard lock(mutex_);
    std::uint64_t n = 0;
    for (const auto& r : rows_)
        if (r.kind == kind && (job.empty() || r.job == job)) n += r.count;
    return n;
}

void EventLog::clear() {
    const std::lock_guard lock(mutex_);
    rows_.clear();
}

}  // namespace txflow::testing
