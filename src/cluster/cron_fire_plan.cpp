#include "cluster/cron_fire_plan.hpp"

#include <algorithm>

namespace txflow::cluster {
namespace {

// After a long downtime a fast schedule has many missed fires: count them up
// to this many (the misfire counter then says "at least").
constexpr std::uint64_t kCountLimit = 1'000'000;
// Fires on time are all run: a bound for absurd graces on sub-second schedules.
constexpr std::size_t kRunLimit = 10'000;

}  // namespace

FirePlan plan_fires(const cron::Schedule& schedule, Misfire misfire, cron::Instant after, cron::Instant now,
                    std::chrono::milliseconds grace) {
    FirePlan plan;
    const auto first = schedule.next(after);
    if (!first || *first > now) return plan;
    plan.last = schedule.prev(now + std::chrono::milliseconds{1});
    if (!plan.last || *plan.last < *first) plan.last = first;  // never before the first (prev is strict)
    const auto late = [&](cron::Instant f) { return now - f > grace; };

    // Each fire in [first, last], keeping those `keep` accepts (up to kRunLimit).
    std::uint64_t total = 0;
    const auto walk = [&](auto keep) {
        for (auto f = first; f && *f <= *plan.last; f = schedule.next(*f)) {
            if (keep(*f) && plan.run.size() < kRunLimit) plan.run.push_back(*f);
            if (++total >= kCountLimit) break;
        }
    };
    if (!late(*first)) {
        walk([](cron::Instant) { return true; });
        return plan;
    }
    switch (misfire.mode) {
        case Misfire::Mode::fire_once:
            walk([](cron::Instant) { return false; });
            plan.run.push_back(*plan.last);
            break;
        case Misfire::Mode::skip: walk([&](cron::Instant f) { return !late(f); }); break;
        case Misfire::Mode::fire_all: walk([&](cron::Instant) { return plan.run.size() < misfire.cap; }); break;
    }
    plan.misfired = total - std::min<std::uint64_t>(total, plan.run.size());
    return plan;
}

}  // namespace txflow::cluster
