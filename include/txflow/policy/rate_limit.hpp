#pragma once
/// @file
/// Rate limit: a token bucket. It starts full (`burst` tokens), refills
/// continuously at `tokens_per_second` from Clock::steady_now(), and never
/// holds more than `burst`. Thread-safe.

#include <chrono>
#include <mutex>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"

namespace txflow {

/// A token bucket rate limiter on an injectable Clock. Thread-safe.
class TXFLOW_EXPORT TokenBucket {
public:
    /// Throws std::invalid_argument unless both are finite and > 0.
    TokenBucket(double tokens_per_second, double burst, Clock& clock);
    TokenBucket(const TokenBucket&) = delete;
    TokenBucket& operator=(const TokenBucket&) = delete;
    ~TokenBucket() = default;

    /// Takes `tokens` (fractions allowed) if that many are available. Throws
    /// std::invalid_argument if `tokens` is negative, not finite, or more than
    /// burst (such a request could never succeed).
    [[nodiscard]] bool try_take(double tokens = 1);
    /// Tokens available now, in [0, burst].
    [[nodiscard]] double available() const;
    /// How long until try_take(tokens) could succeed (zero if it can now), for a
    /// caller that waits through the timer instead of dropping. Same argument
    /// rules as try_take().
    [[nodiscard]] std::chrono::nanoseconds time_until(double tokens = 1) const;

    /// Tokens added per second.
    [[nodiscard]] double rate() const noexcept { return rate_; }
    /// The bucket's capacity (and its contents at construction).
    [[nodiscard]] double burst() const noexcept { return burst_; }

private:
    void check_request(double tokens) const;
    void refill_locked(SteadyTime now) const;

    const double rate_;   // tokens per second
    const double burst_;  // capacity
    // Refills accumulate floating-point error; a request this close to the
    // balance counts as covered.
    const double epsilon_;
    Clock& clock_;
    mutable std::mutex mutex_;
    mutable double tokens_;
    mutable SteadyTime last_;  // when tokens_ was last brought up to date
};

}  // namespace txflow
