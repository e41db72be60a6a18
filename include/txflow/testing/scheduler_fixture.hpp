#pragma once
/// @file
/// A scheduler under test: a ManualClock at a chosen wall time, an in-memory
/// store (or a WAL in a scratch directory), seeded jitter, and every event
/// recorded. Time moves only when the test says, and skips from one due fire
/// to the next, so a month of hourly fires takes milliseconds.
///
///     struct Reports : txflow::testing::SchedulerFixture {
///         Reports() : SchedulerFixture({.start = "2026-01-01T00:00:00Z"}) {
///             setup([](txflow::Scheduler& s) { s.job("report").cron("0 0 9 * * *").run(post_report); });
///         }
///     };
///     TEST_CASE_METHOD(Reports, "a report every morning") {
///         advance(std::chrono::days{3});
///         CHECK(fired("report") == 3);
///     }
///
/// Not thread-safe: drive a fixture from the test's thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/scheduler.hpp"
#include "txflow/testing/event_log.hpp"
#include "txflow/testing/temp_dir.hpp"

namespace txflow::testing {

/// The store a SchedulerFixture gives its scheduler.
enum class StoreKind : std::uint8_t {
    memory,  ///< a MemoryStore, kept across restart()
    wal,     ///< a WalStore in a scratch directory, reopened by restart()
};

/// How a SchedulerFixture sets up its clock, store and scheduler.
struct TXFLOW_EXPORT FixtureOptions {
    std::string start = "2026-01-01T00:00:00Z";  ///< the clock's first wall time (see wall_time())
    std::string zone = "UTC";                    ///< the zone `start` is read in when it has no offset
    StoreKind store = StoreKind::memory;         ///< which store the scheduler records to
    std::uint64_t seed = 7;                      ///< jitter and retry backoff draw from it: the same every run
    /// The rest of the scheduler's options (workers, queues, misfire, ...).
    /// The fixture sets the clock, store, seed and a listener on top, and a
    /// logger: `logger` if set, else stderr if log_to_stderr, else a quiet one.
    SchedulerOptions scheduler = SchedulerOptions{}.workers(2);
    bool log_to_stderr = false;                ///< log to stderr (when `logger` is not set)
    std::shared_ptr<spdlog::logger> logger{};  ///< e.g. a ringbuffer sink's, to assert on log lines
};

/// A scheduler on a ManualClock with a recorded event log: tests move time, not sleep.
class TXFLOW_EXPORT SchedulerFixture {
public:
    /// Registers jobs and sagas on a scheduler (see setup()).
    using Registration = std::function<void(Scheduler&)>;

    SchedulerFixture();
    /// A fixture with these options (the default constructor uses FixtureOptions{}).
    explicit SchedulerFixture(FixtureOptions options);
    SchedulerFixture(const SchedulerFixture&) = delete;
    SchedulerFixture& operator=(const SchedulerFixture&) = delete;
    virtual ~SchedulerFixture();

    /// The scheduler under test (a new one after restart()).
    [[nodiscard]] Scheduler& scheduler() { return *scheduler_; }
    /// The manual clock the scheduler runs on.
    [[nodiscard]] ManualClock& clock() { return clock_; }
    /// The recorded events of every scheduler life.
    [[nodiscard]] EventLog& event_log() { return *events_; }
    /// The store, shared across restart().
    [[nodiscard]] const std::shared_ptr<store::Store>& store() const { return store_; }
    /// The clock's wall time now.
    [[nodiscard]] WallTime now() const { return clock_.wall_now(); }

    /// Registers jobs and sagas: runs `registration` on the scheduler now, and
    /// again on every scheduler restart() builds.
    void setup(Registration registration);
    /// Starts the scheduler (advance() does too) and waits until it is idle.
    void start();

    /// Moves the clock forward by `d` (to the wall time `when`), stopping at
    /// every instant something is due on the way (fires, retries, timeouts,
    /// saga timers) and waiting there until the scheduler is idle: every run
    /// due by the end has ended, in order, when it returns.
    void advance(std::chrono::milliseconds d);
    /// See advance(): moves the clock to `when`.
    void advance_to(WallTime when);
    /// See advance(): moves the clock to a wall time given as text, read in `zone` when it has no offset.
    void advance_to(std::string_view text, std::string_view zone = "UTC");
    /// Waits until the scheduler is idle without moving the clock.
    void settle();

    /// A crash and restart: destroys the scheduler (its destructor stops it
    /// at once), lets `down` pass with no scheduler running, then builds a new
    /// one on the same clock and store (a WAL is reopened from its files),
    /// runs the registrations on it (or `replace`'s, which then stand for later
    /// restarts: a new version deployed), starts it and waits until it is
    /// idle (recovery done). Events of both lives stay in events().
    void restart(std::chrono::milliseconds down = std::chrono::milliseconds{0}, Registration replace = {});

    // ---- what happened (from the recorded events)
    /// Runs of `job` that started (first attempts: a retry is the same run).
    [[nodiscard]] std::size_t fired(std::string_view job) const;
    /// The scheduled instants of those runs, in the order they started.
    [[nodiscard]] std::vector<WallTime> fires_of(std::string_view job) const;
    /// How the last run of `job` that finished ended (Outcome::none: none has).
    [[nodiscard]] Outcome last_outcome(std::string_view job) const;
    /// Every event recorded, in order.
    [[nodiscard]] std::vector<RecordedEvent> events() const { return events_->all(); }
    /// The events of one kind (of `job` only, unless empty).
    [[nodiscard]] std::vector<RecordedEvent> events(EventKind kind, std::string_view job = {}) const {
        return events_->of(kind, job);
    }

    // ---- sagas
    /// Starts an instance, then advances the clock (at most `limit`) until it
    /// is succeeded, compensated or compensation_failed; returns its info then
    /// (still running when `limit` passed first).
    saga::Info run_saga(const SagaRef& saga, nlohmann::json input = nlohmann::json::object(),
                        std::string idempotency_key = {}, std::chrono::milliseconds limit = std::chrono::hours{24});
    /// Advances (at most `limit`) until saga `id` has ended as above.
    std::optional<saga::Info> finish_saga(std::string_view id,
                                          std::chrono::milliseconds limit = std::chrono::hours{24});

    // ---- atomic transactions
    /// Starts one, then advances the clock (at most `limit`) until it is
    /// committed, aborted or commit_stalled; returns its info then.
    atomic::Info run_atomic(const AtomicRef& txn, nlohmann::json input = nlohmann::json::object(),
                            std::string idempotency_key = {}, std::chrono::milliseconds limit = std::chrono::hours{24});
    /// Advances (at most `limit`) until transaction `id` has ended as above.
    std::optional<atomic::Info> finish_atomic(std::string_view id,
                                              std::chrono::milliseconds limit = std::chrono::hours{24});

private:
    void build();
    void open_store();
    // To the next due instant or `until`, whichever is first, then until idle; false: at `until` already.
    bool hop(WallTime until);

    FixtureOptions options_;
    ManualClock clock_;
    std::shared_ptr<EventLog> events_ = std::make_shared<EventLog>();
    std::unique_ptr<TempDir> wal_dir_;
    std::shared_ptr<store::Store> store_;
    std::vector<Registration> registrations_;
    std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace txflow::testing
