#pragma once
/// @file
/// What a job is: a function of its JobContext, the policies (wrappers) around
/// it, and the settings users pass when they define one (Priority, Misfire).
/// Below the scheduler and the policies, so both may include it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"
#include "txflow/core/priority.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow {

namespace detail {
struct JobContextAccess;  ///< the scheduler's way in (src/scheduler/job_definition.hpp)
}

class JobContext;
/// A job: what runs on each fire, given its JobContext. Throwing fails the attempt.
using JobFunction = std::function<void(JobContext&)>;
/// A policy: a job in, a job out (see txflow/policy/policy.hpp).
using Wrapper = std::function<JobFunction(JobFunction)>;

/// What to do with cron/at fires that were missed (clock jumped forward, the
/// job was paused, the process was down).
struct TXFLOW_EXPORT Misfire {
    /// The three ways of handling missed fires.
    enum class Mode : std::uint8_t { fire_once, skip, fire_all };
    /// fire_once: one run for all that were missed; skip: none; fire_all: each, up to cap
    Mode mode = Mode::fire_once;
    std::uint32_t cap = 0;  ///< fire_all: at most this many catch-up runs

    /// One catch-up run for any number of missed fires (the default).
    static constexpr Misfire fire_once() { return {Mode::fire_once, 0}; }
    /// No catch-up: missed fires are reported misfired and dropped.
    static constexpr Misfire skip() { return {Mode::skip, 0}; }
    /// A run for each missed fire, at most `cap` of them.
    static constexpr Misfire fire_all(std::uint32_t cap) { return {Mode::fire_all, cap}; }
};

/// What a running job (and each policy around it) sees of its run. Policies
/// talk back to the scheduler through it: the requests below are read by the
/// scheduler when the attempt ends.
class TXFLOW_EXPORT JobContext {
public:
    /// Made by the scheduler for each run; tests may build one to call a job or policy directly.
    JobContext(std::string_view name, WallTime scheduled, std::stop_token stop, std::uint64_t run_number,
               Clock& clock = RealClock::instance())
        : name_(name),
          scheduled_(scheduled),
          stop_(std::move(stop)),
          run_number_(run_number),
          clock_(&clock),
          run_started_(clock.steady_now()),
          attempt_started_(run_started_) {}

    /// Requested on stop(), on removal, or at a timeout: a long job should check it.
    [[nodiscard]] std::stop_token stop_token() const { return stop_; }
    /// The job's name.
    [[nodiscard]] std::string_view job_name() const { return name_; }
    /// The wall time this run was scheduled for (its fire time).
    [[nodiscard]] WallTime scheduled_time() const { return scheduled_; }
    /// 1 for the job's first run, +1 per run (a retried run keeps its number).
    [[nodiscard]] std::uint64_t run_number() const { return run_number_; }
    /// The scheduler's clock.
    [[nodiscard]] Clock& clock() const { return *clock_; }

    /// Retries: attempt 1 is the first; each retry is a new attempt of the same run.
    [[nodiscard]] std::uint32_t attempt() const { return attempt_; }
    /// When the run's first attempt started (monotonic).
    [[nodiscard]] SteadyTime run_started() const { return run_started_; }
    /// When this attempt started (monotonic).
    [[nodiscard]] SteadyTime attempt_started() const { return attempt_started_; }
    /// The delay before this attempt (0 for the first): decorrelated jitter grows from it.
    [[nodiscard]] std::chrono::milliseconds previous_delay() const { return previous_delay_; }
    /// Per-run random numbers (jitter), seeded from the scheduler's seed.
    [[nodiscard]] std::uint64_t random_seed() const { return seed_; }
    /// This attempt's span (SchedulerOptions::tracer), to pass on to outgoing
    /// calls as `traceparent`; null when tracing is off.
    [[nodiscard]] const observe::TraceContext* trace() const { return trace_; }

    // ---- requests from policies
    /// Run this fire again as attempt() + 1 after `delay`, through the timer.
    void retry_after(std::chrono::milliseconds delay) { retry_delay_ = delay; }
    /// Give up: record the run in the scheduler's dead-letter list.
    void dead_letter(std::string reason) { dead_letter_ = std::move(reason); }
    /// Ask the scheduler to request stop at `deadline`; a job still running
    /// after it counts as stuck.
    void set_deadline(SteadyTime deadline) {
        if (!deadline_ || deadline < *deadline_) deadline_ = deadline;
        if (on_deadline_) on_deadline_(*deadline_);
    }
    /// The earliest deadline set by set_deadline(), if any.
    [[nodiscard]] std::optional<SteadyTime> deadline() const { return deadline_; }
    /// True once the deadline has passed on the job's clock.
    [[nodiscard]] bool deadline_passed() const { return deadline_ && clock_->steady_now() >= *deadline_; }
    /// End the attempt as failed, or as skipped, without throwing.
    void report_failure(std::string error) { failure_ = std::move(error); }
    /// See report_failure(): ends the attempt as skipped, with the reason.
    void report_skipped(std::string reason) { skipped_ = std::move(reason); }

    // ---- preemption (docs/preemption.md)
    /// True once the scheduler asked this run to yield its worker to a run of
    /// higher priority (its stop token is then stopped too). Save progress
    /// with checkpoint(bytes) and return: the run is queued again at once,
    /// with the same attempt number, and reads the bytes back.
    [[nodiscard]] bool preempted() const { return preempt_ != nullptr && preempt_->load(std::memory_order_acquire); }
    /// Why the stop token was stopped: "preempted", "stopped" (stop(),
    /// deadline, removal), or "" while it was not.
    [[nodiscard]] std::string_view stop_reason() const {
        if (preempted()) return "preempted";
        return stop_.stop_requested() ? "stopped" : "";
    }
    /// Saves the run's progress through the scheduler's store (it survives a
    /// crash); the job's next run reads it with checkpoint(). Kept until a
    /// run of the job ends other than by preemption or a retry.
    void checkpoint(std::string bytes) {
        if (on_checkpoint_) on_checkpoint_(bytes);
        checkpoint_ = std::move(bytes);
    }
    /// The progress saved by this run or an earlier one (preempted, or before
    /// a restart); nullopt when there is none.
    [[nodiscard]] const std::optional<std::string>& checkpoint() const { return checkpoint_; }

    /// The delay asked by retry_after(), read by the scheduler when the attempt ends.
    [[nodiscard]] const std::optional<std::chrono::milliseconds>& retry_requested() const { return retry_delay_; }
    /// The reason given to dead_letter(), read by the scheduler when the attempt ends.
    [[nodiscard]] const std::optional<std::string>& dead_letter_requested() const { return dead_letter_; }
    /// The error given to report_failure(), read by the scheduler when the attempt ends.
    [[nodiscard]] const std::optional<std::string>& failure_reported() const { return failure_; }
    /// The reason given to report_skipped(), read by the scheduler when the attempt ends.
    [[nodiscard]] const std::optional<std::string>& skip_reported() const { return skipped_; }

private:
    friend struct detail::JobContextAccess;
    std::string_view name_;
    WallTime scheduled_;
    std::stop_token stop_;
    std::uint64_t run_number_;
    Clock* clock_;
    std::uint32_t attempt_ = 1;
    SteadyTime run_started_;
    SteadyTime attempt_started_;
    std::chrono::milliseconds previous_delay_{0};
    std::uint64_t seed_ = 0;
    const observe::TraceContext* trace_ = nullptr;
    std::optional<std::chrono::milliseconds> retry_delay_;
    std::optional<std::string> dead_letter_;
    std::optional<SteadyTime> deadline_;
    std::optional<std::string> failure_;
    std::optional<std::string> skipped_;
    std::function<void(SteadyTime)> on_deadline_;
    const std::atomic<bool>* preempt_ = nullptr;  // the scheduler's flag for this attempt
    std::optional<std::string> checkpoint_;
    std::function<void(const std::string&)> on_checkpoint_;
};

}  // namespace txflow
