#pragma once
// Inserting a schedule's due fires: one transaction per schedule that checks
// the lease (its row share-locked until COMMIT, so a take-over waits), locks
// the schedule's state row (or skips it while another writer holds it),
// plans from the last fire recorded there, and
// writes each fire with its job. Fires are keyed (schedule, fire_at) with
// ON CONFLICT DO NOTHING and jobs by the unique key "cron:<schedule>:<fire_at>":
// even two leaders at once, or a state row set back, give one of each.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cluster/leader_lease.hpp"
#include "txflow/cluster/cron_leader.hpp"
#include "txflow/cron/schedule.hpp"

namespace txflow::cluster {

struct FireOutcome {
    bool fenced = false;  // the lease was not ours: nothing written
    bool busy = false;    // another writer holds the schedule right now: nothing written
    std::uint64_t inserted = 0;
    std::uint64_t duplicate = 0;
    std::uint64_t misfired = 0;
    cron::Instant decided{};  // every fire up to here is decided (the schedule's new base)
};

// Who writes: the lease and term to check, or none (the tests' bypass).
struct FireTerm {
    const LeaderLease* lease = nullptr;
    std::int64_t epoch = 0;
    std::string node;
};

class CronFires {
public:
    explicit CronFires(const std::string& schema);

    store::StoreResult<FireOutcome> fire_due(const store::pg::Connection& conn, const FireTerm& term,
                                             const CronSchedule& def, const cron::Schedule& schedule, cron::Instant now,
                                             std::chrono::milliseconds grace) const;

private:
    std::string schedules_;
    std::string fires_;
    std::string jobs_;
};

// "cron:<schedule>:<fire_at in RFC 3339, UTC>"
[[nodiscard]] std::string cron_unique_key(const std::string& schedule, cron::Instant fire_at);

}  // namespace txflow::cluster
