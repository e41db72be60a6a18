#pragma once
// Recorders for scheduler tests: every event a scheduler emits (a Listener),
// and every run of a job. Both are thread-safe: listeners and jobs run on the
// scheduler's threads while the test reads.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"

namespace txflow::test_support {

// One event, its text fields owned (Event's are views, valid only during on_event).
struct EventRow {
    EventKind kind{};
    std::string job;
    WallTime fire_time{};
    Outcome outcome = Outcome::none;
    std::chrono::nanoseconds duration{0};
    std::string error;
    std::uint64_t count = 1;
    std::uint32_t attempt = 1;
    std::chrono::milliseconds delay{0};
    std::string detail;
};

// Records every event, in the order delivered.
class EventRecorder final : public Listener {
public:
    void on_event(const Event& e) override {
        const std::lock_guard lock(mutex_);
        rows_.push_back(EventRow{e.kind, std::string(e.job), e.fire_time, e.outcome, e.duration, std::string(e.error),
                                 e.count, e.attempt, e.delay, std::string(e.detail)});
    }
    std::vector<EventRow> rows() const {
        const std::lock_guard lock(mutex_);
        return rows_;
    }
    // The events of one kind.
    std::vector<EventRow> of(EventKind kind) const {
        const std::lock_guard lock(mutex_);
        std::vector<EventRow> out;
        for (const auto& r : rows_)
            if (r.kind == kind) out.push_back(r);
        return out;
    }
    // The sum of Event::count over the events of `kind` (of `job` only, unless empty).
    std::uint64_t count(EventKind kind, std::string_view job = {}) const {
        const std::lock_guard lock(mutex_);
        std::uint64_t n = 0;
        for (const auto& r : rows_)
            if (r.kind == kind && (job.empty() || r.job == job)) n += r.count;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<EventRow> rows_;
};

// The runs of a job: each one's scheduled time and attempt, in the order they ran.
class RunRecorder {
public:
    void add(const JobContext& ctx) {
        const std::lock_guard lock(mutex_);
        scheduled_.push_back(ctx.scheduled_time());
        attempts_.push_back(ctx.attempt());
    }
    // A job function that records its runs here (the recorder must outlive the job).
    JobFunction record() {
        return [this](JobContext& ctx) { add(ctx); };
    }
    std::size_t size() const {
        const std::lock_guard lock(mutex_);
        return scheduled_.size();
    }
    // Scheduled times as UTC text, in run order.
    std::vector<std::string> isos() const {
        const std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto t : scheduled_) out.push_back(iso(t));
        return out;
    }
    std::vector<std::string> sorted_isos() const {
        auto out = isos();
        std::sort(out.begin(), out.end());
        return out;
    }
    std::vector<std::uint32_t> attempts() const {
        const std::lock_guard lock(mutex_);
        return attempts_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<WallTime> scheduled_;
    std::vector<std::uint32_t> attempts_;
};

}  // namespace txflow::test_support
