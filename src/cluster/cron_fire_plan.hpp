#pragma once
// Which fires of a schedule to run now: a pure function of the schedule, its
// misfire policy, the last fire decided (or when the schedule was first
// seen), the wall clock and the misfire grace. The same rules as the
// single-process scheduler (docs/scheduler.md): fires on time all run; once
// one is late by more than the grace, fire_once runs the latest, skip runs
// only those still on time, fire_all(n) runs the first n; the rest count as
// misfired.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/cron/schedule.hpp"
#include "txflow/job.hpp"

namespace txflow::cluster {

struct TXFLOW_EXPORT FirePlan {
    std::vector<cron::Instant> run;     // in order
    std::uint64_t misfired = 0;         // fires due but not run
    std::optional<cron::Instant> last;  // the newest fire due: every fire up to it is decided; nullopt: none due
};

// Fires in (after, now].
[[nodiscard]] TXFLOW_EXPORT FirePlan plan_fires(const cron::Schedule& schedule, Misfire misfire, cron::Instant after,
                                                cron::Instant now, std::chrono::milliseconds grace);

}  // namespace txflow::cluster
