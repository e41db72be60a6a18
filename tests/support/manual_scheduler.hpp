#pragma once
// A scheduler on a ManualClock that starts at 2026-01-01T00:00:00Z (a
// Thursday), with every event it emits recorded: time moves only when the
// test says, and advance() lets the scheduler catch up after each step.

#include <algorithm>
#include <chrono>
#include <memory>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"

namespace txflow::test_support {

struct ManualScheduler {
    ManualClock clock{wall("2026-01-01T00:00:00Z")};
    std::shared_ptr<EventRecorder> events = std::make_shared<EventRecorder>();
    Scheduler sched;

    // `options` gets a quiet logger, the clock and the recorder added.
    explicit ManualScheduler(SchedulerOptions options = SchedulerOptions{}.workers(2))
        : sched{options.logger(quiet_logger()).clock(clock).listener(events)} {}

    // Advances `total` in steps of `step`, waiting after each until the
    // scheduler is idle (so every run due by then has ended).
    void advance(std::chrono::milliseconds total, std::chrono::milliseconds step = std::chrono::milliseconds{100}) {
        for (auto done = std::chrono::milliseconds{0}; done < total; done += step) {
            clock.advance(std::min(step, total - done));
            sched.wait_idle();
        }
    }
};

}  // namespace txflow::test_support
