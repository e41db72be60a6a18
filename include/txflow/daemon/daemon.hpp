#pragma once
/// @file
/// The schedule-file daemon as a library: builds a Scheduler from a
/// ScheduleFile (commands and sagas as jobs), logs through spdlog in text or
/// JSON lines, and applies a changed file to the running scheduler. The
/// `txflow run` command adds signals and the command line around it.
///
///     auto file = txflow::daemon::load_file(path);            // validated
///     auto daemon = txflow::daemon::Daemon::create(std::move(*file), {});
///     if (!daemon) { ... daemon.error() ... }                  // e.g. the state directory is locked
///     (*daemon)->start();                                      // recovers from the WAL, then fires
///     (*daemon)->reload(path);                                 // on SIGHUP
///     (*daemon)->stop(10s);                                    // on SIGTERM
///
/// Log lines a command writes carry the job (or saga id and step) and the
/// stream: text "… info  [backup] stdout: copied 3 files"; JSON
/// {"time":…,"level":"info","msg":"copied 3 files","job":"backup","stream":"stdout"}.
///
/// Environment of a job's command: TXFLOW_JOB, TXFLOW_FIRE_TIME (RFC 3339,
/// UTC), TXFLOW_RUN (the run number), TXFLOW_ATTEMPT. Of a saga step's:
/// TXFLOW_SAGA (the definition's name), TXFLOW_SAGA_ID, TXFLOW_STEP,
/// TXFLOW_IDEMPOTENCY_KEY, TXFLOW_ATTEMPT, TXFLOW_SAGA_DATA (the saga's data as
/// JSON), TXFLOW_COMPENSATING ("1" in a compensation, else "0") and, in a
/// compensation, TXFLOW_SAGA_ERROR. A step's stdout line
/// `TXFLOW_DATA {"key": …}` is merged into the saga's data (top-level keys
/// replaced) when the step exits 0.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/schedule_file/schedule.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/store.hpp"

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace txflow::daemon {
namespace detail {
class SharedSettings;
class Watchdog;
struct CommandContext;
}  // namespace detail

/// The daemon runs what the schedule-file model describes.
using schedule_file::JobSpec;
using schedule_file::LogFormat;
using schedule_file::Problem;
using schedule_file::Problems;
using schedule_file::SagaSpec;
using schedule_file::ScheduleFile;

/// A logger that writes text or JSON lines (one object per line: time, level,
/// msg, plus the fields of command output) to `sink`, stdout by default.
/// level: trace, debug, info, warn, error, critical or off.
[[nodiscard]] TXFLOW_EXPORT std::shared_ptr<spdlog::logger> make_logger(
    LogFormat format, std::string_view level, std::shared_ptr<spdlog::sinks::sink> sink = nullptr);

/// What a Daemon needs besides the file: logging, store, clock, metrics and listeners.
struct TXFLOW_EXPORT DaemonOptions {
    /// SIGTERM to a command's process group on a stop request (timeout,
    /// shutdown, removal), then SIGKILL after this.
    std::chrono::milliseconds kill_grace{5000};
    /// Overrides the file's log.format; ignored when `logger` is given.
    std::optional<LogFormat> log_format;
    /// Default: make_logger() on stdout with the file's log settings.
    std::shared_ptr<spdlog::logger> logger;
    /// Default: a store::WalStore in the file's state_dir, or an in-memory
    /// store when it has none. Tests inject their own.
    std::shared_ptr<store::Store> store;
    /// For tests: the scheduler's clock (must outlive the daemon).
    Clock* clock = nullptr;
    /// The scheduler's metrics go here (SchedulerOptions::metrics); `txflow run
    /// --http` serves it at /metrics.
    std::shared_ptr<observe::Registry> metrics;
    /// More listeners of the scheduler's events (SchedulerOptions::listener),
    /// e.g. the dashboard's http::RunHistory.
    std::vector<std::shared_ptr<Listener>> listeners;
    /// Runs are traced with it (SchedulerOptions::tracer); `txflow run --otlp`.
    std::shared_ptr<observe::Tracer> tracer;
};

/// What a reload did, by job name.
struct TXFLOW_EXPORT ReloadReport {
    std::vector<std::string> added;                 ///< jobs new in the file
    std::vector<std::string> removed;               ///< jobs no longer in the file
    std::vector<std::string> replaced;              ///< jobs whose definition changed (their state starts over)
    std::vector<std::string> unchanged;             ///< jobs kept as they were, with their state
    std::vector<std::string> sagas_changed;         ///< added or redefined
    std::vector<std::string> transactions_changed;  ///< added or redefined
    /// Settings that only a restart applies (workers, queues, state_dir, log format).
    std::vector<std::string> needs_restart;
};

/// The saga that a schedule file's saga entry (at `index`) describes, each step
/// and compensation made by `command` (the daemon runs the command;
/// `txflow validate` passes one that does nothing). A definition error comes
/// back as a problem at `/sagas/<index>`.
[[nodiscard]] TXFLOW_EXPORT Result<SagaRef, Problems> saga_definition(
    const SagaSpec& spec, std::size_t index,
    const std::function<saga::StepFunction(const schedule_file::Command&)>& command);
/// Advice on a valid saga (saga::Definition::warnings), each at its step's
/// pointer: `/sagas/<index>/steps/<n>`.
[[nodiscard]] TXFLOW_EXPORT Problems saga_warnings(const saga::Definition& definition, const SagaSpec& spec,
                                                   std::size_t index);

/// The schedule-file daemon as a library (see the file's notes).
class TXFLOW_EXPORT Daemon {
public:
    /// Builds the scheduler and registers every job and saga (nothing fires
    /// before start()). Fails with the problems when the state directory
    /// cannot be opened or a definition is refused by the library.
    static Result<std::unique_ptr<Daemon>, Problems> create(ScheduleFile file, DaemonOptions options = {});

    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon();  ///< stop(0s) if still running

    /// Starts the scheduler: recovered state resumes, jobs fire from now on.
    void start();
    /// Re-reads and validates `path`: on problems logs each one and keeps the
    /// running schedule (returns them); otherwise applies the new file: jobs
    /// added, removed, and replaced when their canonical form changed (a
    /// running instance of a removed or replaced job is asked to stop);
    /// unchanged jobs keep their state (next fire, run count, breaker).
    Result<ReloadReport, Problems> reload(const std::filesystem::path& path);
    /// Applies an already loaded file, as reload() does after reading it.
    Result<ReloadReport, Problems> apply(ScheduleFile next);
    /// Stops firing, lets runs finish until `drain`, then asks the rest to stop.
    StopReport stop(std::chrono::milliseconds drain);

    /// The scheduler the daemon drives.
    [[nodiscard]] Scheduler& scheduler() { return *scheduler_; }
    /// The daemon's logger.
    [[nodiscard]] spdlog::logger& logger() { return *logger_; }
    /// An info line in the daemon's log (for hosts without spdlog's headers).
    void log(std::string_view message);
    /// The schedule file now running (the last one applied).
    [[nodiscard]] const ScheduleFile& file() const { return file_; }

private:
    class Private {
        explicit Private() = default;
        friend class Daemon;
    };

public:
    /// Only create() can call this: Private is its key.
    Daemon(Private, ScheduleFile file, DaemonOptions options);

private:
    [[nodiscard]] Result<SagaRef, Problems> build_saga(const SagaSpec& spec, std::size_t index) const;
    [[nodiscard]] Result<AtomicRef, Problems> build_transaction(const schedule_file::TransactionSpec& spec,
                                                                std::size_t index) const;
    void add_job(const JobSpec& job);
    [[nodiscard]] detail::CommandContext command_context() const;
    void warn_root();  // when running as root, the commands that have no user
    void log_problems(const Problems& problems, std::string_view what);

    ScheduleFile file_;
    DaemonOptions options_;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<store::Store> store_;
    std::shared_ptr<detail::SharedSettings> settings_;  // output limits and secrets, swapped on reload
    std::map<std::string, SagaRef, std::less<>> sagas_;
    std::map<std::string, AtomicRef, std::less<>> transactions_;
    std::unique_ptr<Scheduler> scheduler_;
    bool started_ = false;
    bool stopped_ = false;
    std::unique_ptr<detail::Watchdog> watchdog_;  // WATCHDOG=1 pings under systemd (src/daemon/sd_notify.hpp)
};

}  // namespace txflow::daemon
