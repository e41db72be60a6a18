#pragma once
// A retry::Policy's delay for attempt n, whatever the policy's own attempt
// limit: the worker uses policies for their curve and jitter only (a job's
// attempts are counted in its row; reconnects go on until stopped).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>

#include "txflow/policy/retry.hpp"

namespace txflow::cluster {

inline std::chrono::milliseconds backoff_delay(retry::Policy policy, std::uint32_t attempt,
                                               std::chrono::milliseconds previous, std::mt19937_64& rng) {
    attempt = std::clamp<std::uint32_t>(attempt, 1, std::numeric_limits<std::uint32_t>::max() - 1);
    policy.attempts(attempt + 1);
    return policy.next_delay(attempt, std::chrono::milliseconds(0), previous, rng).value_or(policy.base_delay(attempt));
}

}  // namespace txflow::cluster
