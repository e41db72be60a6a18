#pragma once
/// @file
/// Policies: wrappers around a job, composed like middleware (robfig/cron's
/// Chain). A wrapper takes the job function and returns a new one:
///
///     txflow::Wrapper log_calls = [](txflow::JobFunction next) {
///         return [next](txflow::JobContext& ctx) {
///             spdlog::info("{} attempt {}", ctx.job_name(), ctx.attempt());
///             next(ctx);
///         };
///     };
///
/// Composition order: the first policy named is the outermost. Each attempt
/// of a run goes through the whole chain; a retry is a new attempt armed on
/// the scheduler's timer, never a sleep on a worker. Order still matters:
/// - JobBuilder::timeout(5s) written *before* retry(...) bounds the whole run
///   (all attempts, from the first start: TimeoutScope::run) and its timeout
///   ends the run; written *after* it bounds each attempt and a timed-out
///   attempt is retried. (policies::timeout takes the scope explicitly.)
/// - recover() inside retry hides failures from it: retry reacts to
///   exceptions only, and recover reports instead of rethrowing.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/job.hpp"
#include "txflow/policy/circuit_breaker.hpp"
#include "txflow/policy/rate_limit.hpp"
#include "txflow/policy/retry.hpp"

namespace txflow {

/// Thrown by the timeout policy when an attempt (or run) outlives its limit; the run ends timed_out.
class TXFLOW_EXPORT TimeoutError : public std::runtime_error {  // Outcome::timed_out
public:
    using std::runtime_error::runtime_error;
};
/// Thrown by the circuit_breaker policy while the breaker is open and there is no fallback; the run fails.
class TXFLOW_EXPORT CircuitOpenError : public std::runtime_error {  // Outcome::failed, fast
public:
    using std::runtime_error::runtime_error;
};
class TXFLOW_EXPORT SkipRun : public std::runtime_error {  // Outcome::skipped: overlap or rate limit
public:
    using std::runtime_error::runtime_error;
};

namespace policies {

/// What a timeout() bounds: each attempt, or the whole run across its retries.
enum class TimeoutScope : std::uint8_t { attempt, run };

/// Catches every exception, logs it with the job name, and reports the run as
/// failed with its what(), without rethrowing.
TXFLOW_EXPORT Wrapper recover();
/// Failed attempts are retried after the policy's delay, through the timer.
/// An exhausted or non-retryable failure goes to the dead-letter list.
TXFLOW_EXPORT Wrapper retry(retry::Policy policy);
/// At the deadline the attempt's stop_token is requested and the attempt
/// counts as timed out; a job that ignores it is reported as stuck.
TXFLOW_EXPORT Wrapper timeout(std::chrono::milliseconds limit, TimeoutScope scope = TimeoutScope::attempt);
/// Overlap control: a fire while the previous run is still going is skipped,
/// or remembered and run once more right after it.
TXFLOW_EXPORT Wrapper skip_if_running();
/// A fire while the previous run is still going waits, and runs once right after it.
TXFLOW_EXPORT Wrapper delay_if_running();
/// Fails fast (CircuitOpenError) or runs the fallback while the breaker is open.
TXFLOW_EXPORT Wrapper circuit_breaker(std::shared_ptr<CircuitBreaker> breaker, JobFunction fallback = {});
/// Runs only when the bucket has a token; otherwise the fire is skipped.
TXFLOW_EXPORT Wrapper rate_limit(std::shared_ptr<TokenBucket> bucket);

/// chain(job, {a, b, c}) == a(b(c(job))).
TXFLOW_EXPORT JobFunction chain(JobFunction job, const std::vector<Wrapper>& wrappers);

}  // namespace policies
}  // namespace txflow
