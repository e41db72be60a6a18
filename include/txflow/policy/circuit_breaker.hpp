#pragma once
/// @file
/// Circuit breaker: stop calling a dependency that is failing or slow, then let
/// a few probe calls through to find out whether it has recovered.
///
///     closed    --(failure rate or slow-call percentile over its limit)--> open
///     open      --(open_for has passed; noticed lazily)-----------------> half_open
///     half_open --(every probe succeeds, none slow)--------------------> closed (window cleared)
///     half_open --(any probe fails or is slow)--------------------------> open
///
/// The breaker runs nothing itself: a caller asks try_acquire() before a call and
/// reports how it went with record_success() / record_failure(). The policy
/// wrapper ("fail fast with a clear outcome, or run a fallback") sits on top.
///
/// Named breakers live in a BreakerRegistry so every job that calls one
/// dependency shares one breaker.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"

namespace txflow {

/// A circuit breaker's state (see the diagram in the file's notes).
enum class BreakerState : std::uint8_t { closed, open, half_open };

/// "closed", "open" or "half_open".
[[nodiscard]] constexpr std::string_view to_string(BreakerState state) noexcept {
    switch (state) {
        case BreakerState::closed: return "closed";
        case BreakerState::open: return "open";
        case BreakerState::half_open: return "half_open";
    }
    return "unknown";
}

/// When a CircuitBreaker opens and how it probes for recovery; see validate() for the limits.
struct TXFLOW_EXPORT BreakerOptions {
    std::size_t window = 20;     ///< rolling window: the last N calls (count-based)
    std::size_t min_calls = 10;  ///< no decision on failure rate / latency before this many calls in the window
    double failure_rate = 0.5;   ///< open when failures / calls >= this
    std::chrono::milliseconds slow_call{0};  ///< 0: no slow-call rule; else open when the percentile below exceeds it
    double slow_percentile = 0.95;           ///< nearest-rank percentile of the window's latencies (failures included)
    std::chrono::milliseconds open_for{30'000};  ///< then half-open
    std::size_t half_open_probes = 3;            ///< calls let through in half-open; all succeed (none slow) -> closed,
                                                 ///< any failure or slow probe -> open again

    /// Field-by-field equality (a registry refuses a name asked for with other options).
    bool operator==(const BreakerOptions&) const = default;
};

/// Throws std::invalid_argument naming the first bad field: window >= 1,
/// min_calls <= window, 0 < failure_rate <= 1, slow_call >= 0,
/// 0 < slow_percentile <= 1, open_for >= 0, half_open_probes >= 1.
TXFLOW_EXPORT void validate(const BreakerOptions& options);

/// A snapshot for tests and observability.
struct TXFLOW_EXPORT BreakerStats {
    BreakerState state = BreakerState::closed;  ///< the state at the time of the snapshot
    std::size_t calls = 0;                      ///< outcomes in the window (at most options.window)
    std::size_t failures = 0;                   ///< failed outcomes in the window
    std::size_t slow_calls = 0;                 ///< outcomes in the window slower than slow_call (0 without the rule)
    double failure_rate = 0.0;                  ///< failures / calls; 0 with no calls
    std::chrono::nanoseconds latency_percentile{0};  ///< slow_percentile of the window's latencies; 0 with no calls
    std::size_t probes_in_flight = 0;                ///< half-open probes let through and not yet reported
};

/// One breaker in front of one dependency: closed, open or half-open over a rolling window of calls.
class TXFLOW_EXPORT CircuitBreaker {
public:
    /// Called with (name, from, to) on every state change; see on_state_change().
    using StateCallback = std::function<void(std::string_view name, BreakerState from, BreakerState to)>;

    /// Throws std::invalid_argument if the options are invalid (see validate()).
    CircuitBreaker(std::string name, BreakerOptions options, Clock& clock);
    CircuitBreaker(const CircuitBreaker&) = delete;
    CircuitBreaker& operator=(const CircuitBreaker&) = delete;
    ~CircuitBreaker() = default;

    /// Ask before a call. False: fail fast (open, or half-open with every probe
    /// already let through). True in half-open means the call is a probe.
    [[nodiscard]] bool try_acquire();

    /// Report a call's outcome. Negative latencies count as zero. Outcomes that
    /// arrive while open, or in half-open when no probe is outstanding (calls let
    /// through before the breaker opened), are ignored.
    void record_success(std::chrono::nanoseconds latency);
    /// Report a failed call and how long it took (see record_success()).
    void record_failure(std::chrono::nanoseconds latency);

    /// open -> half_open happens lazily here and in try_acquire()/stats() once
    /// open_for has passed.
    [[nodiscard]] BreakerState state() const;
    /// A snapshot of the window and the state (the lazy open -> half_open included).
    [[nodiscard]] BreakerStats stats() const;
    /// The name given at construction (the registry's key).
    [[nodiscard]] std::string_view name() const noexcept { return name_; }
    /// The options it was built with.
    [[nodiscard]] const BreakerOptions& options() const noexcept { return options_; }

    /// Called on every state change with (name, from, to), outside the breaker's
    /// lock, so a callback may call back into the breaker. Changes are delivered
    /// one at a time and in the order they happened; under contention a change
    /// may be delivered by another thread than the one that caused it. A callback
    /// must not throw (if it does, the exception reaches that thread's caller).
    void on_state_change(StateCallback callback);

private:
    struct Outcome {
        std::chrono::nanoseconds latency;
        bool failed;
    };
    struct Transition {
        BreakerState from;
        BreakerState to;
    };

    void record(std::chrono::nanoseconds latency, bool failed);
    [[nodiscard]] bool is_slow(std::chrono::nanoseconds latency) const noexcept;
    // The helpers below need mutex_ held.
    void refresh_locked(SteadyTime now) const;  // open -> half_open once open_for has passed
    void transition_locked(BreakerState to, SteadyTime now) const;
    void push_locked(Outcome outcome);
    [[nodiscard]] bool should_open_locked() const;
    [[nodiscard]] std::chrono::nanoseconds percentile_locked() const;
    void clear_window_locked() const;
    // Runs queued state-change callbacks in order, outside mutex_.
    void deliver() const;

    const std::string name_;
    const BreakerOptions options_;
    Clock& clock_;

    mutable std::mutex mutex_;
    // Mutable: state() and stats() move open -> half_open lazily.
    mutable BreakerState state_ = BreakerState::closed;
    mutable SteadyTime open_until_{};
    mutable std::size_t probes_issued_ = 0;     // in this half-open period
    mutable std::size_t probes_succeeded_ = 0;  // in this half-open period
    // Rolling window: a ring buffer of the last options_.window outcomes.
    mutable std::vector<Outcome> window_;
    mutable std::size_t next_ = 0;
    mutable std::size_t count_ = 0;
    mutable std::size_t failures_ = 0;
    mutable std::size_t slow_ = 0;
    mutable std::vector<std::chrono::nanoseconds> scratch_;  // for the percentile, reused
    // State changes waiting for their callbacks; delivering_ marks a thread draining them.
    mutable std::deque<Transition> pending_;
    mutable bool delivering_ = false;
    std::shared_ptr<const std::vector<StateCallback>> callbacks_;  // copy-on-write
};

/// Named breakers shared by the jobs that call one dependency. Thread-safe.
class TXFLOW_EXPORT BreakerRegistry {
public:
    /// Breakers created here read time from `clock`, which must outlive the registry.
    explicit BreakerRegistry(Clock& clock) : clock_(clock) {}

    /// The breaker called `name`, created with `options` on first use. A later
    /// call with different options throws std::invalid_argument (so two jobs
    /// cannot silently disagree about one dependency), as do invalid options.
    std::shared_ptr<CircuitBreaker> get(std::string_view name, const BreakerOptions& options = {});
    /// Nullptr if no breaker has that name.
    [[nodiscard]] std::shared_ptr<CircuitBreaker> find(std::string_view name) const;
    [[nodiscard]] std::vector<std::string> names() const;  ///< sorted

private:
    Clock& clock_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<CircuitBreaker>, std::less<>> breakers_;
};

}  // namespace txflow
