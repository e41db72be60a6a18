// The engine's step runs: one attempt of a step or its compensation (retry
// policy, timeout, idempotency key) and the parallel groups' launch and merge.
#include "saga/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "common/duration_text.hpp"
#include "common/wall_ms.hpp"
#include "saga/instance.hpp"
#include "saga/pivot.hpp"
#include "saga/saga_trace.hpp"

namespace txflow::saga {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

// A parallel group's base with the changes of the picked branches applied in
// step order. Each branch worked on its own copy of the base; a branch that
// completed before a restart has no copy (its changes are in the base).
template <class Pick>
nlohmann::json merge_group(const Instance& in, std::size_t end, const Pick& pick) {
    nlohmann::json merged = in.group_base;
    for (std::size_t i = in.cursor; i < end; ++i) {
        const auto& copy = in.steps[i].group_data;
        if (!pick(i) || (copy.is_null() && !in.group_base.is_null())) continue;
        try {
            merged = merged.patch(nlohmann::json::diff(in.group_base, copy));
        } catch (const nlohmann::json::exception&) {
            merged.merge_patch(copy);  // conflicting edits: the later step wins
        }
    }
    return merged;
}

}  // namespace

Engine::StepResult Engine::run_attempt(Instance& in, std::size_t step, bool compensation) {
    const Step& def = in.def->steps()[step];
    StepRun& st = in.steps[step];
    const bool grouped = def.group != 0;
    std::unique_lock lock(mutex_);
    const SteadyTime now_s = host_.clock().steady_now();

    if (!compensation && !in.fail_reason.empty()) {  // cancelled, or a sibling failed
        // An interrupted step stays running, for its compensation (see below).
        if (st.state != State::running || (st.interrupted && stays_running_when_failed(in, step)))
            return StepResult::failed;
        return durable(in, lock, step_to(in, step, State::failed, in.fail_reason, {}, {})) ? StepResult::failed
                                                                                           : StepResult::stalled;
    }

    std::uint64_t seq = 0;
    std::uint32_t attempt = 0;
    if (!compensation) {
        attempt = st.attempts + 1;
        if (st.state == State::pending) {
            seq = step_to(in, step, State::running, {}, {}, {});
            st.first_attempt = now_s;
            st.previous_delay = milliseconds(0);
        } else {
            auto s = journal_.submit(store::StepAttempt{in.id, static_cast<std::uint32_t>(step), false, attempt,
                                                        st.last_error, st.unrecorded_duration.count(),
                                                        to_ms(host_.clock().wall_now())});
            if (!s) stall(in, s.error().message);
            seq = s ? *s : 0;
            if (in.recovered && st.first_attempt == SteadyTime{}) st.first_attempt = now_s;
        }
        st.attempts = attempt;
    } else {
        if (st.state != State::compensating) {
            seq = step_to(in, step, State::compensating, {}, {}, {});
            st.round_attempts = 0;
            st.first_attempt = now_s;
            st.previous_delay = milliseconds(0);
        } else {
            auto s = journal_.submit(
                store::StepAttempt{in.id, static_cast<std::uint32_t>(step), true, st.compensation_attempts + 1,
                                   st.last_error, st.unrecorded_duration.count(), to_ms(host_.clock().wall_now())});
            if (!s) stall(in, s.error().message);
            seq = s ? *s : 0;
            if (st.round_attempts == 0) st.first_attempt = now_s;
        }
        attempt = ++st.round_attempts;
        ++st.compensation_attempts;
    }
    st.duration += st.unrecorded_duration;
    st.unrecorded_duration = nanoseconds(0);
    if (!st.stop_source || st.stop_source->stop_requested()) st.stop_source = std::make_shared<std::stop_source>();
    auto stop = st.stop_source;
    st.stop = stop;
    if (!durable(in, lock, seq)) {
        st.stop.reset();
        return StepResult::stalled;
    }
    if (stopping_) {
        st.stop.reset();
        return StepResult::stalled;  // the run resumes after a restart
    }
    const auto limit = compensation ? def.compensation_timeout : def.timeout;
    nlohmann::json& data = grouped && !compensation ? st.group_data : in.data;
    const std::string_view saga_error = in.error;
    lock.unlock();

    const std::uint64_t deadline = limit ? host_.call_at(now_s + *limit, [stop] { stop->request_stop(); }) : 0;
    StepTrace trace(host_.tracer(), in);
    StepContext ctx(data, in.id, def.name, stop->get_token(), attempt, compensation, saga_error);
    ctx.trace_ = trace.context();
    std::exception_ptr failure;
    std::string error;
    const SteadyTime began = host_.clock().steady_now();
    try {
        (compensation ? def.compensation : def.action)(ctx);
        if (ctx.failure_) error = *ctx.failure_;
        else if (stop->stop_requested())
            error = limit ? "timed out after " + txflow::detail::format_duration(*limit) : "stopped";
        if (!error.empty()) failure = std::make_exception_ptr(std::runtime_error(error));
    } catch (const std::exception& e) {
        failure = std::current_exception();
        error = e.what();
        if (error.empty()) error = "exception with an empty message";
    } catch (...) {
        failure = std::current_exception();
        error = "unknown exception";
    }
    const auto took = std::chrono::duration_cast<nanoseconds>(host_.clock().steady_now() - began);
    if (deadline != 0) host_.cancel_call(deadline);
    if (failure && limit && stop->stop_requested() && error.find("timed out") == std::string::npos)
        error = fmt::format("timed out after {} ({})", txflow::detail::format_duration(*limit), error);
    trace.end(in, def.name, attempt, compensation, error);

    lock.lock();
    st.stop.reset();
    // An attempt stopped by its timeout may have acted before it noticed: if
    // the step fails for good, it is compensated rather than left failed.
    if (failure && !compensation && limit && stop->stop_requested() && in.fail_reason.empty()) st.interrupted = true;
    if (!failure) {
        // A branch of a group records the group's data as far as it is known
        // (the base plus every branch done), so a crash loses none of it.
        std::optional<std::string> recorded;
        if (!compensation) {
            const auto done = [&](std::size_t i) { return i == step || in.steps[i].state == State::succeeded; };
            recorded = data_text(grouped ? merge_group(in, in.group_end, done) : in.data);
        }
        const auto s = step_to(in, step, compensation ? State::compensated : State::succeeded, {}, &recorded, took);
        return durable(in, lock, s) ? StepResult::succeeded : StepResult::stalled;
    }

    st.last_error = error;
    if (stopping_) {
        // Stopped by the scheduler's shutdown, not by the step: leave it as it
        // is (running) so that recovery runs it again.
        st.unrecorded_duration = took;
        return StepResult::stalled;
    }
    const std::optional<retry::Policy>& own = compensation ? def.compensation_retry : def.retry;
    const retry::Policy* policy = own ? &*own : (compensation ? &in.def->options().compensation_retry : nullptr);
    const bool forward_stopped = !compensation && !in.fail_reason.empty();
    if (policy != nullptr && !forward_stopped && !stopping_) {
        bool retryable = false;
        try {
            retryable = policy->retryable(failure);
        } catch (...) {
            retryable = false;
        }
        const auto elapsed = std::chrono::duration_cast<milliseconds>(host_.clock().steady_now() - st.first_attempt);
        std::optional<milliseconds> delay;
        if (retryable) delay = policy->next_delay(attempt, elapsed, st.previous_delay, rng_);
        if (delay) {
            st.previous_delay = *delay;
            st.unrecorded_duration = took;
            host_.log().warn("saga '{}': {} of step '{}' failed (attempt {}): {}; retrying in {} ms", in.id,
                             compensation ? "compensation" : "action", def.name, attempt, error, delay->count());
            if (host_.has_listeners()) {
                events_.push_back({EventKind::saga, in.id,
                                   fmt::format("step {}: retry {} in {} ms", def.name, attempt + 1, delay->count()),
                                   error});
            }
            in.retry_armed = true;
            lock.unlock();
            flush_events();
            Instance* target = &in;
            host_.call_at(host_.clock().steady_now() + *delay, [this, target, step, grouped, compensation] {
                if (grouped && !compensation)
                    schedule(*target, [this, target, step] { run_group_step(*target, step); });
                else schedule_drive(*target);
                const std::lock_guard relock(mutex_);  // after schedule() counted its task as busy
                target->retry_armed = false;
            });
            return StepResult::retry_scheduled;
        }
    }
    if (!compensation && st.interrupted && stays_running_when_failed(in, step)) {
        // An attempt cut short by a restart or a timeout may have acted before
        // this one failed: `failed` would leave that effect in place (a failed step is
        // not compensated), so the step stays running and the saga fails; the
        // compensation then undoes it, as after a restart with Recovery::compensate
        // (a pivot's effect cannot be undone: the saga parks, see pivot.hpp).
        st.unrecorded_duration = took;
        if (in.fail_reason.empty()) in.fail_reason = fmt::format("step '{}' failed: {}", def.name, error);
        return StepResult::failed;
    }
    const auto s = step_to(in, step, compensation ? State::compensation_failed : State::failed, error, {}, took);
    return durable(in, lock, s) ? StepResult::failed : StepResult::stalled;
}

std::vector<std::size_t> Engine::launch_group(Instance& in, std::size_t first, std::size_t end) {
    // Called with mutex_ held by drive(), which submits the steps after unlocking.
    std::vector<std::size_t> to_run;
    for (std::size_t i = first; i < end; ++i) {
        if (in.steps[i].state == State::succeeded) continue;
        in.steps[i].group_data = in.data;
        to_run.push_back(i);
    }
    in.group_end = to_run.empty() ? 0 : end;
    in.group_base = to_run.empty() ? nlohmann::json() : in.data;
    in.group_pending = to_run.size();
    return to_run;
}

void Engine::run_group_step(Instance& in, std::size_t step) {
    const StepResult result = run_attempt(in, step, false);
    if (result == StepResult::retry_scheduled || result == StepResult::stalled) {
        flush_events();
        return;
    }
    std::unique_lock lock(mutex_);
    if (result == StepResult::failed) {
        if (in.fail_reason.empty())
            in.fail_reason = fmt::format("step '{}' failed: {}", in.step_names[step], in.steps[step].last_error);
        for (std::size_t i = in.cursor; i < in.group_end; ++i)
            if (in.steps[i].stop) in.steps[i].stop->request_stop();
    }
    const bool next = --in.group_pending == 0 && finish_group(in, lock);
    lock.unlock();
    flush_events();
    if (next) schedule_drive(in);
}

bool Engine::finish_group(Instance& in, std::unique_lock<std::mutex>& lock) {
    const std::size_t end = in.group_end;
    in.group_end = 0;
    if (in.fail_reason.empty()) {
        in.data = merge_group(in, end, [](std::size_t) { return true; });
        for (std::size_t i = in.cursor; i < end; ++i) in.steps[i].group_data = nullptr;
        in.group_base = nullptr;
        in.committed = data_text(in.data);
        auto seq = journal_.submit(store::SagaData{in.id, in.committed});
        if (!seq) {
            stall(in, seq.error().message);
            return false;
        }
        if (!durable(in, lock, *seq)) return false;
        in.cursor = end;
    } else {
        // The compensations see what the completed branches wrote (an id to
        // cancel, say), as they would after a restart.
        in.data = merge_group(in, end, [&](std::size_t i) { return in.steps[i].state == State::succeeded; });
        for (std::size_t i = in.cursor; i < end; ++i) in.steps[i].group_data = nullptr;
        in.group_base = nullptr;
        host_.log().warn("saga '{}': {}; {}", in.id, in.fail_reason, failure_plan(in));
    }
    return true;
}

#undef TXFLOW_DURABLE

}  // namespace txflow::saga
