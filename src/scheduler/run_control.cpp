// A job's upcoming fires from its real trigger, and cancelling one run
// (queued or running) from outside: what dashboards and operators ask for.

#include "scheduler/impl.hpp"

#include <spdlog/spdlog.h>

namespace txflow {

using std::chrono::milliseconds;

std::vector<WallTime> Scheduler::next_fires(std::string_view job, std::size_t count) const {
    std::vector<WallTime> out;
    const std::lock_guard lock(impl_->mutex);
    const JobState* j = impl_->find(job);
    if (j == nullptr || j->paused || count == 0) return out;
    const std::optional<WallTime> first = impl_->info_of(*j).next_fire;
    if (!first) return out;
    out.push_back(*first);
    if (const auto* c = j->cron()) {
        for (std::optional<WallTime> at = c->schedule.next(*first); at && out.size() < count;
             at = c->schedule.next(*at))
            out.push_back(*at);
    } else if (j->kind == Trigger::Kind::every_fixed_rate) {
        while (out.size() < count) out.push_back(out.back() + j->period());
    }
    // Fixed delay: the next fire depends on when the run ends; after/at fire once.
    return out;
}

bool Scheduler::cancel_run(std::string_view job, WallTime fire_time) {
    Impl& d = *impl_;
    const std::lock_guard lock(d.mutex);
    const JobState* j = d.find(job);
    if (j == nullptr) return false;
    for (ActiveRun* r = d.active_runs; r != nullptr; r = r->next) {
        if (r->job != j || r->scheduled != fire_time) continue;
        std::uint8_t callable = ActiveRun::kCallable;  // not yet cancelled, and the job has not returned
        if (!r->cancel_state.compare_exchange_strong(callable, ActiveRun::kCancelled, std::memory_order_acq_rel))
            continue;
        r->stop->request_stop();
        d.log.info("job '{}': run for {} ms cancelled while running", job, fire_time.time_since_epoch().count());
        return true;
    }
    PendingRun* queued = d.run_pool.find_queued(
        [&](const PendingRun& p) { return p.job == j && p.scheduled == fire_time && !p.cancelled; });
    if (queued == nullptr) return false;
    queued->cancelled = true;  // run_job ends it `cancelled` without calling the job
    d.log.info("job '{}': queued run for {} ms cancelled", job, fire_time.time_since_epoch().count());
    return true;
}

}  // namespace txflow
