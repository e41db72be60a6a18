#pragma once
/// @file
/// Retry/backoff policy: a pure value that decides whether a failed attempt is
/// retried and how long to wait first. It owns no clock and never sleeps: the
/// scheduler measures elapsed time, asks next_delay(), and waits on its timer.
///
/// Backoff and jitter follow AWS "Exponential Backoff and Jitter":
///   base(n)       fixed: delay;  exponential: min(cap, initial * multiplier^(n-1))
///   none          base
///   full          uniform[0, base]
///   equal         base/2 + uniform[0, base - base/2]      (so within [base/2, base])
///   decorrelated  min(cap, uniform[initial, max(initial, previous_delay * 3)])
/// Decorrelated jitter ignores the attempt number and the multiplier: it grows
/// from the previous delay (x3 per step at most), bounded by `initial` and `cap`.
/// For fixed(d) initial == cap == d, so decorrelated always yields d.
///
/// Randomness: integer milliseconds drawn from the caller's std::mt19937_64 by
/// our own unbiased rejection sampling (not std::uniform_int_distribution, whose
/// output is implementation-defined), so a seed gives the same schedule on
/// every standard library.
///
///     using namespace std::chrono_literals;
///     auto p = txflow::retry::exponential(1s, 2.0, 1min).attempts(5).jitter_full();
///
/// Invalid arguments (initial <= 0, multiplier < 1, cap < initial, attempts 0,
/// negative limits, an empty predicate) are programming errors in a job
/// definition: the factories and setters throw std::invalid_argument.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include "txflow/core/export.hpp"

namespace txflow::retry {

/// How the delay is randomised (see the formulas in the file's notes).
enum class Jitter : std::uint8_t { none, full, equal, decorrelated };
/// How the un-jittered delay grows: the same each time, or exponentially up to a cap.
enum class Backoff : std::uint8_t { fixed, exponential };

/// How often and after which delays a failed attempt is retried: a value, copied freely.
class TXFLOW_EXPORT Policy {
public:
    /// Decides whether a failure (the exception thrown) is worth retrying.
    using Predicate = std::function<bool(const std::exception_ptr&)>;

    /// Without attempts(): this many attempts in total (the first and 2 retries).
    static constexpr std::uint32_t kDefaultAttempts = 3;

    // ---- fluent setters (value semantics: copy a Policy to derive another)
    /// Total attempts including the first; >= 1 (1 = never retry).
    Policy& attempts(std::uint32_t max_attempts);
    /// Give up when the next attempt would start after first_start + limit
    /// (starting exactly at the limit is allowed). limit >= 0.
    Policy& max_elapsed(std::chrono::milliseconds limit);
    /// Sets how the delay is randomised.
    Policy& jitter(Jitter mode) noexcept;
    /// No jitter: the base delay exactly.
    Policy& jitter_none() noexcept { return jitter(Jitter::none); }
    /// Uniform in [0, base].
    Policy& jitter_full() noexcept { return jitter(Jitter::full); }
    /// Uniform in [base/2, base].
    Policy& jitter_equal() noexcept { return jitter(Jitter::equal); }
    /// Grows from the previous delay, uniform in [initial, previous * 3], capped.
    Policy& jitter_decorrelated() noexcept { return jitter(Jitter::decorrelated); }
    /// Which failures are worth retrying; default: every failure. The predicate
    /// is called by retryable() on the scheduler's thread; it should not throw
    /// (an exception from it propagates to the caller of retryable()).
    Policy& retry_if(Predicate predicate);

    // ---- decisions
    /// The delay to wait after attempt `failed_attempt` (1-based) failed, or
    /// nullopt to give up (attempts exhausted, or max_elapsed would be exceeded).
    /// elapsed: time since the first attempt started. previous_delay: the delay
    /// used before the failed attempt (0 after the first); only decorrelated
    /// jitter reads it. Negative durations are treated as 0.
    /// Throws std::invalid_argument if failed_attempt == 0.
    [[nodiscard]] std::optional<std::chrono::milliseconds> next_delay(std::uint32_t failed_attempt,
                                                                      std::chrono::milliseconds elapsed,
                                                                      std::chrono::milliseconds previous_delay,
                                                                      std::mt19937_64& rng) const;

    /// The un-jittered delay after attempt `failed_attempt` (1-based; 0 is
    /// treated as 1): min(cap, initial * multiplier^(n-1)). Never overflows.
    [[nodiscard]] std::chrono::milliseconds base_delay(std::uint32_t failed_attempt) const noexcept;

    /// False when the predicate (retry_if()) says the failure is not worth retrying.
    [[nodiscard]] bool retryable(const std::exception_ptr& failure) const;

    // ---- accessors
    /// Fixed or exponential.
    [[nodiscard]] Backoff backoff() const noexcept { return backoff_; }
    /// The first delay (fixed: every delay).
    [[nodiscard]] std::chrono::milliseconds initial() const noexcept { return initial_; }
    /// Growth factor per attempt (exponential only; 1 for fixed).
    [[nodiscard]] double multiplier() const noexcept { return multiplier_; }
    /// The longest base delay.
    [[nodiscard]] std::chrono::milliseconds cap() const noexcept { return cap_; }
    /// Total attempts allowed, the first included.
    [[nodiscard]] std::uint32_t max_attempts() const noexcept { return max_attempts_; }
    /// The elapsed-time limit, if one was set with max_elapsed().
    [[nodiscard]] std::optional<std::chrono::milliseconds> max_elapsed() const noexcept { return max_elapsed_; }
    /// The jitter mode.
    [[nodiscard]] Jitter jitter() const noexcept { return jitter_; }
    /// True when retry_if() was given a predicate.
    [[nodiscard]] bool has_predicate() const noexcept { return static_cast<bool>(predicate_); }

    /// e.g. "exponential(1s, x2, cap 1m), 5 attempts, full jitter, max elapsed 30s"
    [[nodiscard]] std::string to_string() const;

private:
    Policy(Backoff backoff, std::chrono::milliseconds initial, double multiplier,
           std::chrono::milliseconds cap) noexcept
        : backoff_(backoff), initial_(initial), multiplier_(multiplier), cap_(cap) {}

    friend Policy fixed(std::chrono::milliseconds delay);
    friend Policy exponential(std::chrono::milliseconds initial, double multiplier, std::chrono::milliseconds cap);

    Backoff backoff_;
    std::chrono::milliseconds initial_;
    double multiplier_;
    std::chrono::milliseconds cap_;
    std::uint32_t max_attempts_ = kDefaultAttempts;
    std::optional<std::chrono::milliseconds> max_elapsed_;
    Jitter jitter_ = Jitter::none;
    Predicate predicate_;  // empty: every failure is retryable
};

/// The same delay between attempts; delay >= 0 (0: retry immediately).
[[nodiscard]] TXFLOW_EXPORT Policy fixed(std::chrono::milliseconds delay);
/// initial * multiplier^(n-1), capped: initial > 0, multiplier >= 1, cap >= initial.
[[nodiscard]] TXFLOW_EXPORT Policy exponential(std::chrono::milliseconds initial, double multiplier,
                                               std::chrono::milliseconds cap);

[[nodiscard]] TXFLOW_EXPORT const char* to_string(Jitter mode) noexcept;  ///< "none", "full", ...

}  // namespace txflow::retry
