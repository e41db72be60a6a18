#pragma once
/// @file
/// Every event a scheduler emits, kept in delivery order with its text owned
/// (an Event's strings are views, valid only during on_event). Thread-safe:
/// listeners run on the scheduler's threads while the test reads.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"
#include "txflow/observe/events.hpp"

namespace txflow::testing {

/// An Event as recorded by EventLog: a copy that outlives the callback.
struct TXFLOW_EXPORT RecordedEvent {
    EventKind kind{};                      ///< see Event::kind
    std::string job;                       ///< or the saga id, the breaker's name (see EventKind)
    WallTime fire_time{};                  ///< see Event::fire_time
    Outcome outcome = Outcome::none;       ///< see Event::outcome
    std::chrono::nanoseconds duration{0};  ///< see Event::duration
    std::string error;                     ///< see Event::error
    std::uint64_t count = 1;               ///< see Event::count
    std::uint32_t attempt = 1;             ///< see Event::attempt
    std::chrono::milliseconds delay{0};    ///< see Event::delay
    std::string detail;                    ///< see Event::detail
};

/// "finished report 2026-01-31T09:00:00Z attempt 1: failed (disk full)": for failure messages.
[[nodiscard]] TXFLOW_EXPORT std::string describe(const RecordedEvent& event);

/// A Listener that records every event, for assertions. Thread-safe.
class TXFLOW_EXPORT EventLog final : public Listener {
public:
    void on_event(const Event& event) override;

    /// Every event so far, in the order received.
    [[nodiscard]] std::vector<RecordedEvent> all() const;
    /// The events of one kind (of `job` only, unless empty).
    [[nodiscard]] std::vector<RecordedEvent> of(EventKind kind, std::string_view job = {}) const;
    /// The sum of Event::count over the events of `kind` (of `job` only, unless empty).
    [[nodiscard]] std::uint64_t count(EventKind kind, std::string_view job = {}) const;
    /// Forgets every event recorded.
    void clear();

private:
    mutable std::mutex mutex_;
    std::vector<RecordedEvent> rows_;
};

}  // namespace txflow::testing
