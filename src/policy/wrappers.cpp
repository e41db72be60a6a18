// The policy wrappers (txflow/policy/policy.hpp). Each factory returns a
// Wrapper; calling the Wrapper on a job builds the wrapped job, and any state a
// policy keeps across runs (overlap flags) is created there, so one Wrapper
// value reused for several jobs gives each job its own state.
//
// Decisions worth knowing (see also the tests in tests/policy/wrappers_test.cpp):
//  - recover() turns every exception into ctx.report_failure(what()), except
//    SkipRun: a skip is not a failure, so it passes through and the run stays
//    "skipped". TimeoutError is converted too: placed outside timeout(), recover
//    makes a timed-out attempt a *failed* one (outcome failed, error "timed out
//    after ..."). It does not log: JobContext carries no logger; the scheduler
//    logs failed runs with the job name.
//  - retry() reacts to exceptions only. A failure reported through
//    ctx.report_failure() without throwing is final for the run: that is what
//    makes "recover() inside retry() hides failures from it" (policy.hpp) true,
//    since recover reports instead of rethrowing. A job that wants a retry
//    throws. SkipRun is never retried.
//    On a retry it calls ctx.retry_after(delay) and then lets the failure through
//    (rethrows, or leaves the report), so the attempt still ends as failed;
//    on giving up it calls ctx.dead_letter(what) and lets the failure through.
//  - timeout() checks its own deadline (not the tightest one in the context), and
//    converts anything ending after it (return, report, or exception other than
//    SkipRun) into TimeoutError.
//  - circuit_breaker(): a SkipRun or reported skip from inside counts as a success
//    for the breaker (the call was let through and must be reported, or a
//    half-open probe would stay in flight forever). Put rate_limit and the
//    overlap policies outside the breaker to keep skips out of its window.
//  - delay_if_running(): the extra run executes on the thread, and with the
//    JobContext, of the run that was in progress; the delayed fire itself ends
//    as skipped ("delayed: ..."). If the first run throws, the extra run still
//    happens and the first exception is rethrown afterwards (a later success
//    does not hide an earlier failure).

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/duration_text.hpp"
#include "txflow/policy/policy.hpp"

namespace txflow::policies {
namespace {

void require(bool ok, const char* message) {
    if (!ok) throw std::invalid_argument(message);
}

using txflow::detail::format_duration;

std::string what_of(const std::exception_ptr& ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

Wrapper recover() {
    return [](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "recover: empty job");
        return [next = std::move(next)](JobContext& ctx) {
            try {
                next(ctx);
            } catch (const SkipRun&) {
                throw;  // a skip is not a failure
            } catch (const std::exception& e) {
                ctx.report_failure(e.what());
            } catch (...) {
                ctx.report_failure("unknown exception");
            }
        };
    };
}

Wrapper retry(retry::Policy policy) {
    return [policy = std::move(policy)](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "retry: empty job");
        return [policy, next = std::move(next)](JobContext& ctx) {
            // Decides what follows a failed attempt: retry_after or dead_letter.
            auto on_failure = [&](const std::exception_ptr& failure) {
                if (policy.retryable(failure)) {
                    std::mt19937_64 rng(ctx.random_seed() ^ ctx.attempt());
                    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                        ctx.clock().steady_now() - ctx.run_started());
                    if (const auto delay = policy.next_delay(ctx.attempt(), elapsed, ctx.previous_delay(), rng)) {
                        ctx.retry_after(*delay);
                        return;
                    }
                }
                ctx.dead_letter(what_of(failure));
            };

            try {
                next(ctx);
            } catch (const SkipRun&) {
                throw;
            } catch (...) {
                on_failure(std::current_exception());
                throw;
            }
        };
    };
}

Wrapper timeout(std::chrono::milliseconds limit, TimeoutScope scope) {
    require(limit > std::chrono::milliseconds::zero(), "timeout: limit must be > 0");
    std::string message =
        (scope == TimeoutScope::run ? "run timed out after " : "timed out after ") + format_duration(limit);
    return [limit, scope, message = std::move(message)](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "timeout: empty job");
        return [limit, scope, message, next = std::move(next)](JobContext& ctx) {
            const SteadyTime start = scope == TimeoutScope::run ? ctx.run_started() : ctx.attempt_started();
            const SteadyTime deadline = start + limit;
            Clock& clock = ctx.clock();
            if (clock.steady_now() >= deadline) throw TimeoutError(message);
            ctx.set_deadline(deadline);
            try {
                next(ctx);
            } catch (const SkipRun&) {
                throw;
            } catch (const TimeoutError&) {
                throw;  // an inner timeout keeps its own message
            } catch (...) {
                if (clock.steady_now() >= deadline) throw TimeoutError(message);
                throw;
            }
            if (clock.steady_now() >= deadline) throw TimeoutError(message);
        };
    };
}

Wrapper skip_if_running() {
    return [](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "skip_if_running: empty job");
        auto running = std::make_shared<std::atomic<bool>>(false);
        return [running, next = std::move(next)](JobContext& ctx) {
            if (running->exchange(true, std::memory_order_acquire)) {
                throw SkipRun("previous run still running");
            }
            struct Release {
                std::atomic<bool>& flag;
                ~Release() { flag.store(false, std::memory_order_release); }
            } release{*running};
            next(ctx);
        };
    };
}

Wrapper delay_if_running() {
    struct State {
        std::mutex mutex;
        bool running = false;
        bool pending = false;
    };
    return [](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "delay_if_running: empty job");
        auto state = std::make_shared<State>();
        return [state, next = std::move(next)](JobContext& ctx) {
            {
                const std::lock_guard lock(state->mutex);
                if (state->running) {
                    state->pending = true;
                    ctx.report_skipped("delayed: previous run still running");
                    return;
                }
                state->running = true;
            }
            std::exception_ptr first_error;
            for (;;) {
                try {
                    next(ctx);
                } catch (...) {
                    if (!first_error) first_error = std::current_exception();
                }
                const std::lock_guard lock(state->mutex);
                if (!state->pending) {
                    state->running = false;
                    break;
                }
                state->pending = false;
            }
            if (first_error) std::rethrow_exception(first_error);
        };
    };
}

Wrapper circuit_breaker(std::shared_ptr<CircuitBreaker> breaker, JobFunction fallback) {
    require(breaker != nullptr, "circuit_breaker: null breaker");
    return [breaker = std::move(breaker), fallback = std::move(fallback)](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "circuit_breaker: empty job");
        return [breaker, fallback, next = std::move(next)](JobContext& ctx) {
            if (!breaker->try_acquire()) {
                if (fallback) {
                    fallback(ctx);
                    return;
                }
                throw CircuitOpenError("circuit '" + std::string(breaker->name()) + "' is open");
            }
            Clock& clock = ctx.clock();
            const bool reported_before = ctx.failure_reported().has_value();
            const SteadyTime start = clock.steady_now();
            try {
                next(ctx);
            } catch (const SkipRun&) {
                breaker->record_success(clock.steady_now() - start);
                throw;
            } catch (...) {
                breaker->record_failure(clock.steady_now() - start);
                throw;
            }
            const auto latency = clock.steady_now() - start;
            if (!reported_before && ctx.failure_reported()) {
                breaker->record_failure(latency);
            } else {
                breaker->record_success(latency);
            }
        };
    };
}

Wrapper rate_limit(std::shared_ptr<TokenBucket> bucket) {
    require(bucket != nullptr, "rate_limit: null bucket");
    return [bucket = std::move(bucket)](JobFunction next) -> JobFunction {
        require(static_cast<bool>(next), "rate_limit: empty job");
        return [bucket, next = std::move(next)](JobContext& ctx) {
            if (!bucket->try_take()) throw SkipRun("rate limited");
            next(ctx);
        };
    };
}

JobFunction chain(JobFunction job, const std::vector<Wrapper>& wrappers) {
    require(static_cast<bool>(job), "chain: empty job");
    for (auto it = wrappers.rbegin(); it != wrappers.rend(); ++it) {
        require(static_cast<bool>(*it), "chain: empty wrapper");
        job = (*it)(std::move(job));
        require(static_cast<bool>(job), "chain: a wrapper returned an empty job");
    }
    return job;
}

}  // namespace txflow::policies
