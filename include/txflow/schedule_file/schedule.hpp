#pragma once
/// @file
/// JSON schedule files: the model, the loader and the validator behind
/// `txflow validate|run|jobs` (format reference: docs/schedule-format.md).
///
///     auto file = txflow::schedule_file::load_file("schedule.json");
///     if (!file) {
///         for (const auto& p : file.error()) std::cerr << p.to_string() << '\n';  // "/jobs/3/cron: ..."
///         return 1;
///     }
///     for (const auto& job : file->jobs) ...
///
/// Validation reports every problem it finds, not just the first, each with
/// the RFC 6901 JSON pointer of the offending value and the reason. The
/// parsed model is plain data: it includes neither the scheduler, the saga
/// engine nor the breaker; turning it into those is the daemon's business
/// (txflow/daemon/daemon.hpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "txflow/core/export.hpp"

#include <nlohmann/json.hpp>

#include "txflow/core/clock.hpp"
#include "txflow/core/priority.hpp"
#include "txflow/cron/schedule.hpp"
#include "txflow/policy/retry.hpp"  // retry::Backoff, retry::Jitter
#include "txflow/result.hpp"

namespace txflow::schedule_file {

/// One thing wrong with a schedule file: where (a JSON pointer, "" for the
/// document as a whole) and why.
struct TXFLOW_EXPORT Problem {
    std::string pointer;  ///< the RFC 6901 JSON pointer of the offending value; "" for the whole document
    std::string reason;   ///< why it is wrong, and what would fix it

    /// "/jobs/3/cron: hour (field 3, col 5): 25 is out of range 0-23"; the
    /// reason alone when the pointer is empty (invalid JSON, for one).
    [[nodiscard]] std::string to_string() const;
    /// Same pointer and reason.
    bool operator==(const Problem&) const = default;
};
/// Every problem found, in document order.
using Problems = std::vector<Problem>;

// ---------------------------------------------------------------- durations

/// Go-style durations: a sequence of decimal numbers, each with an optional
/// fraction and a unit (ns, us, ms, s, m, h), e.g. "500ms", "1m30s", "1.5h";
/// "0" alone is zero. Never negative; must be a whole number of milliseconds.
/// The error is a reason fit for a Problem ("unknown unit 'sec' in \"10sec\"
/// (use ns, us, ms, s, m or h)").
[[nodiscard]] TXFLOW_EXPORT Result<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);
/// The shortest Go-style text: 90000ms -> "1m30s", 0 -> "0s".
[[nodiscard]] TXFLOW_EXPORT std::string format_duration(std::chrono::milliseconds d);

// ---------------------------------------------------------------- the model

/// A program to run: no shell is involved (say "sh", "-c", "..." for one).
/// (The daemon-wide defaults of inherit_env, env_allow, user and group are
/// filled in by the loader: a loaded Command says what it runs with.)
struct TXFLOW_EXPORT Command {
    std::vector<std::string> argv;           ///< non-empty; argv[0] is looked up in PATH unless it has a '/'
    std::map<std::string, std::string> env;  ///< added to (and overriding) the daemon's environment
    std::string cwd;                         ///< absolute after loading: relative paths are taken from the file's
                                             ///< directory, and an absent cwd is the file's directory
    /// Variables read from a file when the daemon starts and on each reload
    /// ("env": {"PGPASSWORD": {"file": "/run/credentials/pg"}}): name -> absolute
    /// path. The value is never in the model, the canonical form or a log.
    std::map<std::string, std::string> env_files;
    /// false: the command starts from an empty environment plus the daemon's
    /// variables named in env_allow (then env, env_files, TXFLOW_*).
    bool inherit_env = true;
    std::vector<std::string> env_allow;  ///< with inherit_env false: the daemon's variables kept
    /// Run as this user (name or number) / group; empty: the daemon's. With a
    /// user and no group, the user's primary group.
    std::string user;
    std::string group;  ///< the group to run as (see user)
    /// Field-by-field equality.
    bool operator==(const Command&) const = default;
};

/// What of a run's output reaches the log: the first `head` and the last
/// `tail` bytes, then "N bytes not logged"; and at most `lines_per_second`
/// lines a second per job (bursts up to `burst`), the rest counted.
struct TXFLOW_EXPORT OutputSpec {
    std::size_t head = 32 * 1024;           ///< bytes logged from the start of a run's output
    std::size_t tail = 32 * 1024;           ///< bytes logged from its end
    std::uint32_t lines_per_second = 1000;  ///< lines logged per second per job
    std::uint32_t burst = 10'000;           ///< lines allowed in a burst above the rate
    /// Field-by-field equality.
    bool operator==(const OutputSpec&) const = default;
};

/// A job's or step's retry policy as plain data (retry::Policy's settings).
struct TXFLOW_EXPORT RetrySpec {
    std::uint32_t attempts = retry::Policy::kDefaultAttempts;  ///< in total, the first included
    retry::Backoff backoff = retry::Backoff::exponential;      ///< fixed or exponential
    std::chrono::milliseconds initial{1000};                   ///< the first delay (fixed: every delay)
    double multiplier = 2.0;                                   ///< exponential only
    std::chrono::milliseconds max{60'000};                     ///< exponential only: the cap
    retry::Jitter jitter = retry::Jitter::none;                ///< how delays are randomised
    std::optional<std::chrono::milliseconds> max_elapsed;  ///< give up past this since the first attempt; empty: never

    /// Field-by-field equality.
    bool operator==(const RetrySpec&) const = default;
};

/// A job's overlap policy: run anyway, skip_if_running or delay_if_running.
enum class Overlap : std::uint8_t { allow, skip, delay };

/// txflow::BreakerOptions as plain data, with the same defaults.
struct TXFLOW_EXPORT BreakerSettings {
    std::size_t window = 20;                                  ///< see BreakerOptions::window
    std::size_t min_calls = 10;                               ///< see BreakerOptions::min_calls
    double failure_rate = 0.5;                                ///< see BreakerOptions::failure_rate
    std::chrono::milliseconds slow_call{0};                   ///< see BreakerOptions::slow_call
    double slow_percentile = 0.95;                            ///< see BreakerOptions::slow_percentile
    std::chrono::milliseconds open_for{30'000};               ///< see BreakerOptions::open_for
    std::size_t half_open_probes = 3;                         ///< see BreakerOptions::half_open_probes
    bool operator==(const BreakerSettings&) const = default;  ///< field-by-field equality
};

/// A job's circuit breaker: a name (shared by the jobs that give it) and its settings.
struct TXFLOW_EXPORT BreakerSpec {
    std::string name;         ///< defaults to the job's name: a breaker of its own
    BreakerSettings options;  ///< the breaker's settings
    /// Field-by-field equality.
    bool operator==(const BreakerSpec&) const = default;
};

/// What fires a job: a cron expression, a fixed rate, or one wall time.
enum class TriggerKind : std::uint8_t { cron, every, at };

/// txflow::Misfire as plain data.
struct TXFLOW_EXPORT MisfireSpec {
    /// Misfire::Mode as plain data.
    enum class Mode : std::uint8_t { fire_once, skip, fire_all };
    Mode mode = Mode::fire_once;  ///< how missed fires are handled
    std::uint32_t cap = 0;        ///< fire_all: at most this many catch-up runs
    /// Field-by-field equality.
    bool operator==(const MisfireSpec&) const = default;
};

/// txflow::saga::Recovery as plain data.
enum class OnRecovery : std::uint8_t { resume, compensate };

/// One job of a schedule file: its trigger, settings, policies and what it runs.
struct TXFLOW_EXPORT JobSpec {
    std::string name;                         ///< unique in the file
    TriggerKind trigger = TriggerKind::cron;  ///< which of cron / every / at fires it
    std::string cron;                         ///< as written (CRON_TZ= prefix and descriptors included)
    std::optional<cron::Schedule> schedule;   ///< cron: parsed, in `zone` unless the text names its own
    std::chrono::milliseconds every{0};       ///< every: fixed rate
    WallTime at{};                            ///< at
    std::string zone;                         ///< cron only; empty: UTC (or the CRON_TZ= prefix)
    Priority priority = Priority::normal;     ///< the runs' priority
    std::string queue;                        ///< empty: the default queue
    std::chrono::milliseconds jitter{0};      ///< a random delay up to this added to each fire
    std::optional<MisfireSpec> misfire;       ///< empty: the scheduler's default (fire_once)
    bool preemptible = false;                 ///< "preemptible": true (docs/preemption.md)
    std::string traceparent;                  ///< W3C parent every run continues (empty: a new trace per run)
    std::string tracestate;                   ///< passed on with `traceparent`

    // policies
    std::optional<std::chrono::milliseconds> timeout;  ///< per attempt
    std::optional<RetrySpec> retry;                    ///< retries of failed attempts; empty: none
    Overlap overlap = Overlap::allow;                  ///< what a fire does while a run is still going
    std::optional<BreakerSpec> breaker;                ///< a circuit breaker around the job; empty: none

    // what runs: exactly one of command / saga / transaction
    std::optional<Command> command;                   ///< a command to run
    std::string saga;                                 ///< a saga's name
    std::string transaction;                          ///< an atomic transaction's name
    nlohmann::json input = nlohmann::json::object();  ///< the saga's or transaction's data

    /// "cron */5 * * * *", "every 1m30s", "at 2026-03-07T12:00:00Z"
    [[nodiscard]] std::string schedule_text() const;
    /// The zone the job's fires are shown in: the cron schedule's, else UTC.
    [[nodiscard]] const cron::Zone& display_zone() const;
    /// Fires strictly after `from`, at most `count`. `every` jobs count from
    /// `from` (as the scheduler does from start()); an `at` in the past has none.
    [[nodiscard]] std::vector<cron::Instant> next_fires(cron::Instant from, std::size_t count) const;
};

/// One step of a schedule file's saga: a command and what undoes it.
struct TXFLOW_EXPORT StepSpec {
    std::string name;                                  ///< unique within the saga
    Command command;                                   ///< the action
    std::optional<Command> compensate;                 ///< the compensation; empty only with no_compensation
    bool no_compensation = false;                      ///< nothing undoes the step (a pivot)
    std::optional<std::chrono::milliseconds> timeout;  ///< per attempt, for the action
    std::optional<RetrySpec> retry;                    ///< the action's; default one attempt
};

/// A saga of a schedule file: steps of commands, run by jobs that name it.
struct TXFLOW_EXPORT SagaSpec {
    std::string name;                             ///< unique in the file
    std::vector<StepSpec> steps;                  ///< in order
    OnRecovery on_recovery = OnRecovery::resume;  ///< after a crash: go on, or undo
    Priority priority = Priority::normal;         ///< the steps' priority
    std::string queue;                            ///< the steps' queue; empty: the default queue
};

/// A participant of an atomic transaction: three commands. prepare exits 0 to
/// vote yes (anything else is a no); commit and abort exit 0 to acknowledge.
struct ParticipantSpec {
    std::string name;  ///< unique within the transaction
    Command prepare;   ///< exits 0 to vote yes
    Command commit;    ///< exits 0 to acknowledge the commit
    Command abort;     ///< exits 0 to acknowledge the abort
};

/// An atomic transaction (two-phase commit over commands, docs/atomic.md).
struct TransactionSpec {
    std::string name;                                          ///< unique in the file
    std::vector<ParticipantSpec> participants;                 ///< in order
    std::optional<std::chrono::milliseconds> prepare_timeout;  ///< empty: the library's (30 s)
    std::optional<std::uint32_t> stall_after;                  ///< failed commit attempts; empty: the library's (5)
};

/// How the daemon writes its log: text lines or JSON lines.
enum class LogFormat : std::uint8_t { text, json };

/// The file's log settings.
struct TXFLOW_EXPORT LogSpec {
    LogFormat format = LogFormat::text;  ///< text or JSON lines
    std::string level = "info";          ///< trace, debug, info, warn, error, critical, off
};

/// A loaded, validated schedule file: the model the daemon runs (see the file's notes).
struct TXFLOW_EXPORT ScheduleFile {
    /// The format version this build reads and writes.
    static constexpr int kVersion = 1;

    std::filesystem::path path;       ///< as given to load_file (empty for parse_text)
    std::filesystem::path directory;  ///< absolute: relative paths inside are taken from here
    std::string state_dir;            ///< absolute after loading; empty: state is kept in memory only
    /// "store": a PostgreSQL URL makes the daemon a cluster member (docs/cluster.md); empty: not one.
    std::string store;
    LogSpec log;                                              ///< the log settings
    std::optional<std::size_t> workers;                       ///< empty: one per CPU
    std::vector<std::pair<std::string, std::size_t>> queues;  ///< name, concurrency limit (in file order)
    std::vector<JobSpec> jobs;                                ///< in file order
    std::vector<SagaSpec> sagas;                              ///< in file order
    std::vector<TransactionSpec> transactions;                ///< atomic transactions, in file order
    OutputSpec output;                                        ///< how much of a run's output is logged
    /// The daemon-wide default user (already applied to every Command).
    std::string user;
    std::string group;  ///< the daemon-wide default group

    /// Canonical JSON of a job / saga as loaded (defaults filled in, durations
    /// in milliseconds, paths resolved), so two spellings of the same job
    /// compare equal. A saga job's form includes its saga's.
    [[nodiscard]] nlohmann::json canonical(const JobSpec& job) const;
    /// Canonical JSON of a saga as loaded (see canonical(const JobSpec&)).
    [[nodiscard]] nlohmann::json canonical(const SagaSpec& saga) const;
    /// Canonical JSON of a transaction as loaded (see canonical(const JobSpec&)).
    [[nodiscard]] nlohmann::json canonical(const TransactionSpec& transaction) const;
    /// The saga called `name`, or nullptr.
    [[nodiscard]] const SagaSpec* find_saga(std::string_view name) const;
    /// The transaction called `name`, or nullptr.
    [[nodiscard]] const TransactionSpec* find_transaction(std::string_view name) const;
    /// The job called `name`, or nullptr.
    [[nodiscard]] const JobSpec* find_job(std::string_view name) const;
};

/// A loaded file, or every problem found in it.
using LoadResult = Result<ScheduleFile, Problems>;

/// How deep arrays and objects may nest in a schedule file (and in a saga
/// step's TXFLOW_DATA line): the top-level object is level 1. Deeper input is
/// refused while it is parsed, with its line and column, in time and memory
/// bounded by this limit rather than by the input.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Limits on the rest of a schedule file, each refused with its position.
inline constexpr std::size_t kMaxFileBytes = std::size_t{4} << 20;  ///< bytes of the file's text, at most
/// Jobs in a file, at most.
inline constexpr std::size_t kMaxJobs = 10'000;
/// Sagas in a file, at most.
inline constexpr std::size_t kMaxSagas = 1'000;
inline constexpr std::size_t kMaxSteps = 100;  ///< steps per saga, at most
/// Atomic transactions in a file, at most.
inline constexpr std::size_t kMaxTransactions = 1'000;
inline constexpr std::size_t kMaxParticipants = 100;  ///< participants per transaction, at most
/// A saga's data (its input, each TXFLOW_DATA line, the data after a merge) as
/// compact JSON: it reaches every step as TXFLOW_SAGA_DATA, and Linux refuses
/// an environment string over 128 KiB at exec.
inline constexpr std::size_t kMaxSagaDataBytes = std::size_t{64} << 10;
/// A secret file ("env": {"X": {"file": ...}}).
inline constexpr std::size_t kMaxSecretBytes = std::size_t{64} << 10;

/// Parses and validates JSON text. `directory` is where relative paths in the
/// file (state_dir, cwd) start; empty: the current directory. Problems are
/// in document order.
[[nodiscard]] TXFLOW_EXPORT LoadResult parse_text(std::string_view text, const std::filesystem::path& directory = {});
/// Reads and validates a file; a file that cannot be read is one Problem
/// with an empty pointer ("cannot read x.json: No such file or directory").
[[nodiscard]] TXFLOW_EXPORT LoadResult load_file(const std::filesystem::path& path);
/// The bytes of a schedule file, or why it cannot be read
/// ("cannot read x.json: No such file or directory"). At most kMaxFileBytes.
[[nodiscard]] TXFLOW_EXPORT Result<std::string, std::string> read_text_file(const std::filesystem::path& path);

/// The closest of `candidates` to `word` when it is a likely typo (small edit
/// distance), for "did you mean" hints; empty when none is close.
[[nodiscard]] TXFLOW_EXPORT std::string closest_match(std::string_view word,
                                                      const std::vector<std::string_view>& candidates);

/// "low", "normal", "high" or "critical", as a schedule file writes it.
[[nodiscard]] TXFLOW_EXPORT std::string_view to_string(Priority p);
/// "allow", "skip" or "delay", as a schedule file writes it.
[[nodiscard]] TXFLOW_EXPORT std::string_view to_string(Overlap o);

}  // namespace txflow::schedule_file
