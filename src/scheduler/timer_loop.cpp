// The timer thread.

#include "scheduler/impl.hpp"

#include <spdlog/spdlog.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace txflow {

using std::chrono::milliseconds;

namespace {
// Fires dispatched per lock hold and per submission: about 50 us of work.
constexpr std::size_t kDispatchChunk = 256;
}  // namespace

void Scheduler::Impl::timer_loop(const std::stop_token& token) {
#ifdef __linux__
    // The default 50 us timer slack would add straight to every fire's
    // lateness; this thread sleeps rarely enough that 1 us costs nothing.
    (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
#endif
    std::unique_lock lock(mutex);
    std::vector<PendingRun> runs;
    SubmitScratch scratch;
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

        // Burst dispatch: due timers are popped, fired and re-armed in
        // chunks under one lock hold each, and every chunk goes to the
        // executor in one submission. Chunks, not the whole due set: with
        // 10,000 jobs due at once the workers start on the first runs while
        // the rest are still being dispatched. Timers are cancelled before
        // their record is destroyed, so a fired timer always names a live record.
        dispatching = true;
        for (std::size_t n = 0; n < kDispatchChunk; ++n) {
            JobState* j = timers.pop_due(now_s);
            if (j == nullptr) break;
            on_timer(*j, now_s, now_w, runs);
        }
        dispatching = false;
        while (AuxTimer* t = aux_timers.pop_due(now_s)) on_aux_timer(*t, runs);
        if (!runs.empty() || !deferred.empty() || !due_callbacks.empty()) {
            auto callbacks_now = std::move(due_callbacks);
            due_callbacks.clear();
            lock.unlock();
            flush_events();
            submit(runs, scratch);
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
}  // namespace txflow
