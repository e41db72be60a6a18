#pragma once
// What the preemption tests share: a scheduler on a ManualClock with an
// event log, and a preemptible job body that works until asked to stop,
// saves a checkpoint when preempted, and finishes at once when resumed.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing/event_log.hpp"

namespace txflow::test {

// What one job's runs saw, filled on workers, read by the test thread after
// a bounded wait (never asserted from a worker).
struct PreemptLog {
    std::mutex mutex;
    std::vector<std::string> restored;  // ctx.checkpoint() at each start ("" when none)
    std::vector<std::uint32_t> attempts;
    std::atomic<int> started{0};
    std::atomic<int> yielded{0};
    std::atomic<int> ended{0};

    void start(const JobContext& ctx) {
        {
            const std::lock_guard lock(mutex);
            restored.push_back(ctx.checkpoint().value_or(""));
            attempts.push_back(ctx.attempt());
        }
        ++started;
    }
    std::vector<std::string> restored_copy() {
        const std::lock_guard lock(mutex);
        return restored;
    }
    std::vector<std::uint32_t> attempts_copy() {
        const std::lock_guard lock(mutex);
        return attempts;
    }
};

// Polls its stop token every millisecond (the job's own pace, not a test
// wait); preempted: saves "half" and returns; restored from "half": ends.
inline JobFunction polite_worker(PreemptLog& log) {
    return [&log](JobContext& ctx) {
        log.start(ctx);
        if (ctx.checkpoint() == std::optional<std::string>("half")) {
            ++log.ended;
            return;
        }
        while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
        if (ctx.preempted()) {
            ctx.checkpoint("half");
            ++log.yielded;
            return;
        }
        ++log.ended;
    };
}

// The tests' epoch (2026) on the ManualClock.
inline const WallTime kPreemptEpoch{std::chrono::hours{24 * 365 * 56}};

// A scheduler on `clock` with `workers` workers, reporting to `events`, quiet.
inline SchedulerOptions preempt_options(ManualClock& clock, std::shared_ptr<testing::EventLog> events,
                                        std::size_t workers) {
    return SchedulerOptions{}.workers(workers).clock(clock).listener(std::move(events)).logger(quiet_logger());
}

inline std::vector<std::string> preempted_jobs(const testing::EventLog& events, std::string_view detail) {
    std::vector<std::string> out;
    for (const auto& e : events.of(EventKind::preempted))
        if (e.detail == detail) out.push_back(e.job);
    return out;
}

inline JobInfo info(Scheduler& s, std::string_view job) {
    auto h = s.find(job);
    REQUIRE(h);
    auto i = h->info();
    REQUIRE(i);
    return *i;
}

}  // namespace txflow::test
