// When each job fires next: arming the job timers, and what a fired one does.

#include "scheduler/impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <vector>

namespace txflow {

using std::chrono::milliseconds;

milliseconds Scheduler::Impl::draw_jitter(const JobState& j) {
    const milliseconds max = j.jitter();
    if (max.count() <= 0) return milliseconds{0};
    std::uniform_int_distribution<std::int64_t> dist(0, max.count());
    return milliseconds{dist(rng)};
}

void Scheduler::Impl::set_deadline(JobState& j, SteadyTime deadline) {
    timers.rearm(j, deadline);
    // The timer thread, arming from its own pass, computes its next wake-up
    // after the pass anyway.
    if (!dispatching) notify_timer();
}

// Arms the timer for a wall-clock fire at w.
void Scheduler::Impl::arm_wall(JobState& j, WallTime w, SteadyTime now_s, WallTime now_w) {
    j.set_next_wall(w);
    set_deadline(j, now_s + (w - now_w) + draw_jitter(j));
    defer(event(EventKind::scheduled, j.name(), w));
}

// Computes and arms the next fire of a job that has none armed.
void Scheduler::Impl::arm(JobState& j, SteadyTime now_s, WallTime now_w, const WallTime* following) {
    if (!started || stopping || j.paused || j.removed || j.done) return;
    switch (j.kind) {
        case Trigger::Kind::cron: {
            auto& c = *j.cron();
            if (following != nullptr && !c.catch_up_from) {
                c.follows_last = true;
                arm_wall(j, *following, now_s, now_w);
                return;
            }
            WallTime base = c.last_fire ? std::max(*c.last_fire, now_w) : now_w;
            if (auto& from = c.catch_up_from) {
                base = std::min(*from, now_w);
                from.reset();
            }
            c.follows_last = c.last_fire && base == *c.last_fire;
            const auto fire = c.schedule.next(base);
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

void Scheduler::Impl::note_misfire(JobState& j, WallTime first_missed, std::uint64_t count, bool skipped) {
    j.extra_state().misfire_count += count;
    // A fixed-rate job falling behind its period is routine under load; a
    // missed wall-clock fire is worth a warning.
    const auto level = j.kind == Trigger::Kind::every_fixed_rate ? spdlog::level::debug : spdlog::level::warn;
    log.log(level, "job '{}' missed {} fire(s) from {} on", j.name(), count,
            cron::to_rfc3339(first_missed, cron::Zone::utc()));
    Event e = event(skipped ? EventKind::skipped : EventKind::misfired, j.name(), first_missed);
    e.count = count;
    defer(e);
    if (const JobMetrics* m = j.metrics()) (skipped ? m->skipped_fires : m->misfires)->inc(count);
}

// The common case of a cron fire, kept free of allocation: one fire due (the
// next lies after now_w), within the misfire grace. False if not that case.
bool Scheduler::Impl::fire_on_time(JobState& j, SteadyTime now_s, WallTime now_w, std::vector<PendingRun>& runs) {
    auto& c = *j.cron();
    const WallTime due = *j.next_wall();
    const auto following = c.schedule.next(due);
    if (!following || *following <= now_w || now_w - due > options.misfire_grace_) return false;
    const auto previous = c.last_fire;
    queue_run(j, due, runs, true);
    c.last_fire = due;
    // The watermark would move to due - 1 ms; when no fire lies between it
    // and the previous fire already recorded, that says nothing new: the
    // worker records this fire when it is done (one record per fire, not two).
    const auto recorded = track_fires ? j.extra_state().recorded_fire : JobState::kNoTime;
    if (track_fires && !(c.follows_last && previous && recorded != JobState::kNoTime && recorded >= to_ms(*previous)))
        (void)record_fires_done(j);
    j.set_next_wall(std::nullopt);
    arm(j, now_s, now_w, &*following);
    return true;
}

// The timer of j expired at steady time now_s.
void Scheduler::Impl::on_timer(JobState& j, SteadyTime now_s, WallTime now_w, std::vector<PendingRun>& runs) {
    switch (j.kind) {
        case Trigger::Kind::cron:
        case Trigger::Kind::at: {
            const WallTime due = *j.next_wall();
            if (now_w < due) {  // the wall clock went back, or drifted: wait for it
                set_deadline(j, now_s + (due - now_w));
                return;
            }
            if (j.kind == Trigger::Kind::cron && fire_on_time(j, now_s, now_w, runs)) return;
            // Every fire in [due, now_w]; more than one only after a jump or a stall.
            auto& fires = fires_scratch;
            fires.assign(1, due);
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
                static_cast<std::uint64_t>(std::count_if(fires.begin(), fires.end(), late)) + (total - fires.size());
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
void Scheduler::Impl::rearm_wall_jobs(SteadyTime now_s, WallTime now_w) {
    by_name.for_each([&](JobState* j) {
        if (j->armed() && j->next_wall()) set_deadline(*j, now_s + (*j->next_wall() - now_w));
    });
}
}  // namespace txflow
