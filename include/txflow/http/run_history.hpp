#pragma once
/// @file
/// A Listener that keeps, per job, a bounded ring of its recent runs, and a
/// per-minute count of finished and failed runs over the last hour: what the
/// dashboard shows without touching the scheduler core.
///
///     auto history = std::make_shared<txflow::http::RunHistory>(50);
///     txflow::Scheduler sched{txflow::SchedulerOptions{}.listener(history)};
///
/// It is on every run's path, so it records compactly (no names, no hex, one
/// clock read per run) and formats when the API asks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "txflow/core/export.hpp"
#include "txflow/observe/events.hpp"

namespace txflow::http {

/// One attempt of one run, as the listener saw it.
struct TXFLOW_EXPORT RunRecord {
    std::string job;                        ///< the job's name
    WallTime fire_time{};                   ///< the instant the run was scheduled for
    WallTime started{};                     ///< when the attempt started (wall clock)
    std::uint32_t attempt = 1;              ///< 1, then 2.. for retries
    std::chrono::milliseconds duration{0};  ///< zero while running
    std::chrono::milliseconds lateness{0};  ///< started - fire_time
    Outcome outcome = Outcome::none;        ///< none: still running
    std::string error;                      ///< the failure's text
    std::string trace_id;                   ///< the attempt's trace (32 hex digits); empty without a tracer
    std::string span_id;                    ///< the attempt's span (16 hex digits); empty without a tracer
};

/// Per-minute figures of the last hour (index 0: the oldest minute).
struct TXFLOW_EXPORT MinuteCounts {
    std::int64_t minute = 0;     ///< minutes since the epoch
    std::uint64_t finished = 0;  ///< attempts that ended in that minute
    std::uint64_t failed = 0;    ///< of which failed or timed out
};

/// The listener: thread-safe, bounded (per_job runs per job, 60 minutes).
class TXFLOW_EXPORT RunHistory : public Listener {
public:
    /// Keeps at most `per_job` runs of each job; `clock` (default: the real
    /// wall clock) stamps the starts and ends.
    explicit RunHistory(std::size_t per_job = 50, const Clock* clock = nullptr);
    ~RunHistory() override;
    RunHistory(const RunHistory&) = delete;
    RunHistory& operator=(const RunHistory&) = delete;
    void on_event(const Event& event) override;

    /// The job's runs, newest first (at most `limit`).
    [[nodiscard]] std::vector<RunRecord> runs(std::string_view job, std::size_t limit = 1000) const;
    /// Every job's runs that started at or after `since`, oldest first.
    [[nodiscard]] std::vector<RunRecord> recent(WallTime since) const;
    /// The last 60 minutes, oldest first, ending with the current minute.
    [[nodiscard]] std::vector<MinuteCounts> last_hour() const;
    /// Names of the breakers seen changing state.
    [[nodiscard]] std::vector<std::string> breakers() const;
    /// Forgets a job's runs (e.g. when it was removed).
    void forget(std::string_view job);

private:
    struct Ring;
    [[nodiscard]] WallTime now() const;
    [[nodiscard]] std::shared_ptr<const Ring> find(std::string_view job) const;
    void count_finished(WallTime at, Outcome outcome);
    std::size_t per_job_;
    const Clock* clock_;
    // on_event holds jobs_mutex_ and then the ring's lock; readers take a ring's
    // shared_ptr under jobs_mutex_ and copy it under the ring's lock alone, so a
    // long listing never stalls a run.
    mutable std::mutex jobs_mutex_;
    std::map<std::string, std::shared_ptr<Ring>, std::less<>> rings_;
    mutable std::mutex minutes_mutex_;
    std::deque<MinuteCounts> minutes_;
    mutable std::mutex breakers_mutex_;
    std::set<std::string, std::less<>> breakers_;
};

}  // namespace txflow::http
