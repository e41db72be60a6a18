#pragma once
// Recorders for scheduler tests: every run of a job, thread-safe (jobs run on
// the scheduler's threads while the test reads). Events are recorded by the
// test kit's txflow::testing::EventLog.

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
#include "txflow/testing/event_log.hpp"

namespace txflow::test {

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

}  // namespace txflow::test
