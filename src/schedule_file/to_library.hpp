#pragma once
// What the library makes of the schedule-file model's plain data: a retry
// policy, breaker options, a misfire rule, a saga's recovery (private to
// src/schedule_file and src/daemon; the validator uses them as a backstop).

#include "txflow/core/export.hpp"
#include "txflow/policy/circuit_breaker.hpp"
#include "txflow/policy/retry.hpp"
#include "txflow/saga/saga.hpp"
#include "txflow/schedule_file/schedule.hpp"
#include "txflow/scheduler.hpp"

namespace txflow::schedule_file {

// Throws std::invalid_argument for settings the library refuses.
[[nodiscard]] TXFLOW_EXPORT retry::Policy to_policy(const RetrySpec& spec);

[[nodiscard]] constexpr BreakerOptions to_options(const BreakerSettings& s) {
    return BreakerOptions{s.window,          s.min_calls, s.failure_rate,    s.slow_call,
                          s.slow_percentile, s.open_for,  s.half_open_probes};
}
static_assert(to_options(BreakerSettings{}) == BreakerOptions{}, "BreakerSettings' defaults are BreakerOptions'");

[[nodiscard]] constexpr Misfire to_misfire(const MisfireSpec& m) {
    switch (m.mode) {
        case MisfireSpec::Mode::fire_once: return Misfire::fire_once();
        case MisfireSpec::Mode::skip: return Misfire::skip();
        case MisfireSpec::Mode::fire_all: return Misfire::fire_all(m.cap);
    }
    return Misfire::fire_once();
}

[[nodiscard]] constexpr saga::Recovery to_recovery(OnRecovery r) {
    return r == OnRecovery::compensate ? saga::Recovery::compensate : saga::Recovery::resume;
}

}  // namespace txflow::schedule_file
