#include "saga/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "common/duration_text.hpp"
#include "saga/instance.hpp"
#include "saga/pivot.hpp"

namespace txflow::saga {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

std::int64_t to_ms(WallTime t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(std::int64_t ms) {
    return WallTime{} + std::chrono::duration_cast<WallTime::duration>(milliseconds(ms));
}

std::string dump(const nlohmann::json& data) {
    return data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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

Engine::Engine(EngineHost& host, store::Journal& journal)
    : host_(host),
      journal_(journal),
      recovery_gate_(host.recovery_concurrency()),
      rng_(host.seed() != 0 ? host.seed() : std::random_device{}()) {}
Engine::~Engine() = default;

void Engine::register_definition(const DefinitionPtr& def) {
    std::vector<Instance*> ready;
    {
        const std::lock_guard lock(mutex_);
        auto& slot = definitions_[def->name()];
        if (slot == def) return;
        slot = def;
        for (const auto& warning : def->warnings()) host_.log().warn("{}", warning.to_string(def->name()));
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            Instance& in = **it;
            if (in.def || in.definition != def->name()) {
                ++it;
                continue;
            }
            bool same_steps = in.step_names.size() == def->steps().size();
            for (std::size_t i = 0; same_steps && i < in.step_names.size(); ++i)
                same_steps = in.step_names[i] == def->steps()[i].name;
            if (!same_steps) {
                host_.log().error(
                    "saga '{}' cannot resume: definition '{}' no longer has the steps it was started with", in.id,
                    def->name());
                ++it;
                continue;
            }
            in.def = def;
            if (started_) {
                ready.push_back(&in);
                it = waiting_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (Instance* in : ready) schedule_drive(*in);
}

std::string Engine::new_id(std::string_view definition) {
    for (;;) {
        auto id = fmt::format("{}-{:x}-{}", definition, to_ms(host_.clock().wall_now()), ++next_id_);
        if (instances_.count(id) == 0) return id;
    }
}

Engine::Started Engine::start(const DefinitionPtr& def, nlohmann::json input, std::string key) {
    if (!def) throw std::invalid_argument("start_saga: no saga definition");
    register_definition(def);
    std::unique_lock lock(mutex_);
    if (!key.empty()) {
        if (auto it = instances_.find(key); it != instances_.end()) return {key, false};
    }
    auto owned = std::make_unique<Instance>();
    Instance& in = *owned;
    in.id = key.empty() ? new_id(def->name()) : std::move(key);
    in.definition = def->name();
    in.def = def;
    in.data = std::move(input);
    in.committed = dump(in.data);
    in.created = in.updated = host_.clock().wall_now();
    in.steps.resize(def->steps().size());
    in.step_names.reserve(def->steps().size());
    for (const auto& s : def->steps()) in.step_names.push_back(s.name);

    store::SagaCreated record{in.id, in.definition, in.step_names, in.committed, to_ms(in.created)};
    auto seq = journal_.submit(record);
    if (!seq) throw std::runtime_error(fmt::format("saga '{}': the store refused it: {}", in.id, seq.error().message));
    const std::string id = in.id;
    instances_.emplace(id, std::move(owned));
    if (host_.has_listeners()) events_.push_back({EventKind::saga, id, "created->pending", {}});
    const bool run_now = started_ && !stopping_;
    if (!run_now) waiting_.push_back(&in);
    lock.unlock();
    if (auto synced = journal_.sync(*seq); !synced) {
        lock.lock();
        stall(in, synced.error().message);
        lock.unlock();
        flush_events();
        throw std::runtime_error(fmt::format("saga '{}': the store failed: {}", id, synced.error().message));
    }
    flush_events();
    if (run_now) schedule_drive(in);
    journal_.maybe_snapshot();
    return {id, true};
}

void Engine::recover(const store::LiveState& state) {
    const std::lock_guard lock(mutex_);
    for (const auto& [id, s] : state.sagas) {
        auto owned = std::make_unique<Instance>();
        Instance& in = *owned;
        in.id = s.id;
        in.definition = s.definition;
        in.state = s.state;
        in.committed = s.data;
        in.data = nlohmann::json::parse(s.data, nullptr, false);
        if (in.data.is_discarded()) {
            host_.log().error("saga '{}': its recorded data is not JSON; it resumes with null data", in.id);
            in.data = nullptr;
        }
        in.error = s.error;
        in.resolution = s.resolution;
        in.created = from_ms(s.created_ms);
        in.updated = from_ms(s.updated_ms);
        in.step_names = s.step_names;
        in.steps.resize(s.steps.size());
        for (std::size_t i = 0; i < s.steps.size(); ++i) {
            const auto& from = s.steps[i];
            auto& to = in.steps[i];
            to.state = from.state;
            to.attempts = from.attempts;
            to.compensation_attempts = from.compensation_attempts;
            if (from.started_ms != 0) to.started = from_ms(from.started_ms);
            if (from.finished_ms != 0) to.finished = from_ms(from.finished_ms);
            to.duration = nanoseconds(from.duration_ns);
            to.last_error = from.last_error;
            to.interrupted = from.state == State::running;
        }
        // Stopped between a step's `failed` record and the saga's: that step
        // is done for good (it must not run again); the saga fails.
        if (in.state == State::running) {
            if (auto f = std::find_if(in.steps.begin(), in.steps.end(),
                                      [](const StepRun& st) { return st.state == State::failed; });
                f != in.steps.end()) {
                in.fail_reason =
                    fmt::format("step '{}' failed: {}", in.step_names[static_cast<std::size_t>(f - in.steps.begin())],
                                f->last_error);
            }
        }
        in.recovered = true;
        in.visible = in.state;
        if (auto d = definitions_.find(in.definition); d != definitions_.end()) in.def = d->second;
        const bool open = !is_terminal(in.state) && in.state != State::compensation_failed;
        Instance* raw = owned.get();
        instances_[id] = std::move(owned);
        if (open) {
            waiting_.push_back(raw);
            if (!raw->def) {
                host_.log().warn("saga '{}' ({}) was {} at the last stop; it resumes once its definition is registered",
                                 raw->id, raw->definition, to_string(raw->state));
            }
        }
    }
}

void Engine::on_start() {
    std::vector<Instance*> ready;
    {
        const std::lock_guard lock(mutex_);
        started_ = true;
        stopping_ = false;
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            if ((*it)->def) {
                ready.push_back(*it);
                it = waiting_.erase(it);
            } else {
                ++it;
            }
        }
        for (Instance* in : ready) {
            if (!in->recovered) continue;
            if (in->state == State::running && in->fail_reason.empty() &&
                in->def->options().on_recovery == Recovery::compensate && !pivot_forcing_forward(*in)) {
                in->fail_reason = "interrupted by a restart";
            }
            host_.log().info("saga '{}' ({}) recovered as {}: {}", in->id, in->definition, to_string(in->state),
                             recovery_plan(*in));
        }
    }
    for (Instance* in : ready) schedule_drive(*in);
}

void Engine::on_stop() {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, in] : instances_)
        for (auto& st : in->steps)
            if (st.stop) st.stop->request_stop();
}

// ------------------------------------------------------------ transitions

std::uint64_t Engine::saga_to(Instance& in, State to, std::string error) {
    const State from = in.state;
    State next = from;
    if (!transition(Machine::saga, next, to)) {
        throw std::logic_error(
            fmt::format("saga '{}': illegal transition {} -> {}", in.id, to_string(from), to_string(to)));
    }
    const WallTime now = host_.clock().wall_now();
    auto seq = journal_.submit(store::SagaStateChange{in.id, to, error, to_ms(now)});
    if (!seq) {
        stall(in, seq.error().message);
        return 0;
    }
    in.state = next;
    in.updated = now;
    if (from == State::compensation_failed && to == State::compensated) in.resolution = error;
    else if (!error.empty()) in.error = std::move(error);
    if (host_.has_listeners()) {
        events_.push_back({EventKind::saga, in.id, fmt::format("{}->{}", to_string(from), to_string(to)),
                           to == State::failed || to == State::compensation_failed ? in.error : std::string()});
    }
    changed_.notify_all();
    return *seq;
}

std::uint64_t Engine::step_to(Instance& in, std::size_t step, State to, std::string error,
                              std::optional<std::string>* data, nanoseconds duration) {
    StepRun& st = in.steps[step];
    const State from = st.state;
    State next = from;
    if (!transition(Machine::step, next, to)) {
        throw std::logic_error(fmt::format("saga '{}', step '{}': illegal transition {} -> {}", in.id,
                                           in.step_names[step], to_string(from), to_string(to)));
    }
    const WallTime now = host_.clock().wall_now();
    store::StepStateChange record{
        in.id, static_cast<std::uint32_t>(step), to, error, std::nullopt, duration.count(), to_ms(now)};
    if (data != nullptr) record.data = std::move(*data);
    auto seq = journal_.submit(record);
    if (!seq) {
        stall(in, seq.error().message);
        return 0;
    }
    if (record.data) in.committed = std::move(*record.data);
    st.state = next;
    st.duration += duration;
    in.updated = now;
    if (to == State::running) {
        if (!st.started) st.started = now;
    } else if (to != State::compensating) {
        st.finished = now;
    }
    if (!error.empty()) st.last_error = std::move(error);
    if (host_.has_listeners()) {
        events_.push_back({EventKind::saga, in.id,
                           fmt::format("step {}: {}->{}", in.step_names[step], to_string(from), to_string(to)),
                           to == State::failed || to == State::compensation_failed ? st.last_error : std::string()});
    }
    return *seq;
}

// Called under mutex_ once the store has made the instance's records durable.
void Engine::publish(Instance& in) {
    if (in.visible == in.state) return;
    in.visible = in.state;
    changed_.notify_all();
}

void Engine::stall(Instance& in, const std::string& why) {
    if (in.stalled) return;
    in.stalled = true;
    host_.log().critical(
        "saga '{}': cannot record its next transition ({}); it stops here and resumes after a "
        "restart with a working store",
        in.id, why);
    events_.push_back({EventKind::alert, in.id, "stalled", why});
    changed_.notify_all();
}

void Engine::flush_events() {
    std::vector<PendingEvent> batch;
    {
        const std::lock_guard lock(mutex_);
        if (events_.empty()) return;
        batch.swap(events_);
    }
    deliver(batch);
}

void Engine::deliver(const std::vector<PendingEvent>& batch) {
    for (const auto& p : batch) {
        Event e;
        e.kind = p.kind;
        e.job = p.saga;
        e.detail = p.detail;
        e.error = p.error;
        if (p.kind == EventKind::saga && !p.error.empty()) e.outcome = Outcome::failed;
        host_.emit(e);
    }
}

// ------------------------------------------------------------ driving

// Called without mutex_. While a task of the instance is queued or running,
// `busy` keeps purge() from freeing it.
void Engine::schedule(Instance& in, std::function<void()> task) {
    {
        const std::lock_guard lock(mutex_);
        ++in.busy;
    }
    if (!in.recovered) {
        submit(in, std::move(task));
        return;
    }
    recovery_gate_.enter([this, &in, task = std::move(task)]() mutable {
        return submit(in, [this, task = std::move(task)] {
            task();
            recovery_gate_.leave();
        });
    });
}

bool Engine::submit(Instance& in, std::function<void()> task) {
    const auto& options = in.def->options();
    auto release = [this, &in] {
        const std::lock_guard lock(mutex_);
        --in.busy;
    };
    const bool accepted = host_.submit(options.priority, options.queue, [task = std::move(task), release] {
        task();
        release();
    });
    if (!accepted) {
        release();
        host_.log().warn("saga '{}': the worker pool refused its next step (stopping); it resumes after a restart",
                         in.id);
    }
    return accepted;
}

void Engine::schedule_drive(Instance& in) {
    schedule(in, [this, &in] { drive(in); });
}

// Releases the lock while the journal makes a record durable, delivering the
// events raised so far; false if the store failed (the instance is stalled).
bool Engine::durable(Instance& in, std::unique_lock<std::mutex>& lock, std::uint64_t seq) {
    if (seq == 0) return false;
    std::vector<PendingEvent> batch;
    batch.swap(events_);
    lock.unlock();
    deliver(batch);
    auto synced = journal_.sync(seq);
    lock.lock();
    if (!synced) {
        stall(in, synced.error().message);
        return false;
    }
    publish(in);
    return true;
}

#define TXFLOW_DURABLE(in, lock, seq) durable(in, lock, seq)

void Engine::park(Instance& in, std::unique_lock<std::mutex>& lock, const std::string& why) {
    if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::compensation_failed, why))) return;
    host_.log().error("saga '{}' needs an operator: {}", in.id, why);
    events_.push_back({EventKind::alert, in.id, "compensation_failed", why});
}

void Engine::drive(Instance& in) {
    std::vector<std::size_t> group_tasks;
    std::unique_lock lock(mutex_);
    const std::size_t n = in.steps.size();
    for (;;) {
        if (in.stalled || stopping_) break;
        if (in.state == State::pending) {
            if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::running, {}))) break;
            continue;
        }
        if (in.state == State::running) {
            if (!in.fail_reason.empty()) {
                if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::failed, in.fail_reason))) break;
                continue;
            }
            while (in.cursor < n && in.steps[in.cursor].state == State::succeeded) ++in.cursor;
            if (in.cursor == n) {
                if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::succeeded, {}))) break;
                host_.log().debug("saga '{}' succeeded", in.id);
                break;
            }
            const std::uint32_t group = in.def->steps()[in.cursor].group;
            if (group != 0) {
                std::size_t first = in.cursor;
                while (first > 0 && in.def->steps()[first - 1].group == group) --first;
                std::size_t end = in.cursor;
                while (end < n && in.def->steps()[end].group == group) ++end;
                in.cursor = first;
                group_tasks = launch_group(in, first, end);
                if (group_tasks.empty()) {
                    in.cursor = end;
                    continue;
                }
                break;
            }
            const std::size_t step = in.cursor;
            lock.unlock();
            const StepResult result = run_attempt(in, step, false);
            lock.lock();
            if (result == StepResult::succeeded) {
                ++in.cursor;
                continue;
            }
            if (result == StepResult::failed) {
                const std::string why =
                    in.fail_reason.empty()
                        ? fmt::format("step '{}' failed: {}", in.step_names[step], in.steps[step].last_error)
                        : in.fail_reason;
                host_.log().warn("saga '{}': {}; {}", in.id, why, failure_plan(in));
                if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::failed, why))) break;
                continue;
            }
            break;  // a retry is armed, or the store failed
        }
        if (in.state == State::failed) {
            if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::compensating, {}))) break;
            continue;
        }
        if (in.state == State::compensating) {
            if (auto pivot = pivot_blocking_compensation(in)) {
                park(in, lock, fmt::format("{}; {}", in.error, not_compensated_past(in, *pivot)));
                break;
            }
            // The latest step that still needs undoing.
            std::optional<std::size_t> next;
            for (std::size_t i = n; i-- > 0 && !next;) {
                const StepRun& st = in.steps[i];
                const bool undoable = in.def->steps()[i].has_compensation();
                switch (st.state) {
                    case State::succeeded:
                    case State::running:  // interrupted by a crash, compensate mode
                    case State::compensating:
                    case State::compensation_failed:
                        if (undoable) next = i;
                        break;
                    default: break;
                }
                if (!undoable && st.state == State::running) {
                    if (!TXFLOW_DURABLE(in, lock, step_to(in, i, State::failed, "interrupted by a restart", {}, {})))
                        return;
                }
            }
            if (!next) {
                if (!TXFLOW_DURABLE(in, lock, saga_to(in, State::compensated, {}))) break;
                host_.log().info("saga '{}' compensated ({})", in.id, in.error);
                break;
            }
            const std::size_t step = *next;
            lock.unlock();
            const StepResult result = run_attempt(in, step, true);
            lock.lock();
            if (result == StepResult::succeeded) continue;
            if (result == StepResult::failed) {
                park(in, lock,
                     fmt::format("compensation of step '{}' failed: {}", in.step_names[step],
                                 in.steps[step].last_error));
                break;
            }
            break;
        }
        break;  // succeeded, compensated, compensation_failed: nothing to do
    }
    lock.unlock();
    flush_events();
    for (std::size_t i : group_tasks) schedule(in, [this, &in, i] { run_group_step(in, i); });
    journal_.maybe_snapshot();
}

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
        return TXFLOW_DURABLE(in, lock, step_to(in, step, State::failed, in.fail_reason, {}, {})) ? StepResult::failed
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
    if (!TXFLOW_DURABLE(in, lock, seq)) {
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
    StepContext ctx(data, in.id, def.name, stop->get_token(), attempt, compensation, saga_error);
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
            recorded = dump(grouped ? merge_group(in, in.group_end, done) : in.data);
        }
        const auto s = step_to(in, step, compensation ? State::compensated : State::succeeded, {}, &recorded, took);
        return TXFLOW_DURABLE(in, lock, s) ? StepResult::succeeded : StepResult::stalled;
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
            lock.unlock();
            flush_events();
            Instance* target = &in;
            host_.call_at(host_.clock().steady_now() + *delay, [this, target, step, grouped, compensation] {
                if (grouped && !compensation)
                    schedule(*target, [this, target, step] { run_group_step(*target, step); });
                else schedule_drive(*target);
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
    return TXFLOW_DURABLE(in, lock, s) ? StepResult::failed : StepResult::stalled;
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
        in.committed = dump(in.data);
        auto seq = journal_.submit(store::SagaData{in.id, in.committed});
        if (!seq) {
            stall(in, seq.error().message);
            return false;
        }
        if (!TXFLOW_DURABLE(in, lock, *seq)) return false;
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

// ------------------------------------------------------------ operators and queries

Instance* Engine::find(std::string_view id) const {
    auto it = instances_.find(std::string(id));
    return it == instances_.end() ? nullptr : it->second.get();
}

bool Engine::retry_compensation(std::string_view id) {
    std::unique_lock lock(mutex_);
    Instance* in = find(id);
    if (in == nullptr || in->state != State::compensation_failed || !in->def || in->stalled) return false;
    const auto seq = saga_to(*in, State::compensating, {});
    if (seq == 0) return false;
    lock.unlock();
    flush_events();
    if (!journal_.sync(seq)) return false;
    {
        const std::lock_guard relock(mutex_);
        publish(*in);
    }
    host_.log().info("saga '{}': an operator retries its compensation", in->id);
    schedule_drive(*in);
    return true;
}

bool Engine::resolve_compensation(std::string_view id, std::string note) {
    std::unique_lock lock(mutex_);
    Instance* in = find(id);
    if (in == nullptr || in->state != State::compensation_failed || in->stalled) return false;
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < in->steps.size(); ++i) {
        if (in->steps[i].state != State::compensation_failed) continue;
        seq = step_to(*in, i, State::compensated, note, {}, {});
        if (seq == 0) return false;
    }
    seq = saga_to(*in, State::compensated, note.empty() ? std::string("resolved by an operator") : note);
    if (seq == 0) return false;
    lock.unlock();
    flush_events();
    if (!journal_.sync(seq)) return false;
    {
        const std::lock_guard relock(mutex_);
        publish(*in);
    }
    host_.log().info("saga '{}' marked compensated by an operator: {}", in->id, note);
    return true;
}

bool Engine::cancel(std::string_view id, std::string reason) {
    const std::lock_guard lock(mutex_);
    Instance* in = find(id);
    if (in == nullptr || (in->state != State::pending && in->state != State::running) || !in->fail_reason.empty())
        return false;
    in->fail_reason = reason.empty() ? "cancelled" : std::move(reason);
    for (auto& st : in->steps)
        if (st.stop) st.stop->request_stop();
    return true;
}

Info Engine::info_of(const Instance& in) const {
    Info info;
    info.id = in.id;
    info.definition = in.definition;
    info.state = in.visible;
    info.data = nlohmann::json::parse(in.committed, nullptr, false);
    if (info.data.is_discarded()) info.data = in.committed;
    info.error = in.error;
    info.created = in.created;
    info.updated = in.updated;
    info.resolution = in.resolution;
    info.stalled = in.stalled;
    info.steps.reserve(in.steps.size());
    for (std::size_t i = 0; i < in.steps.size(); ++i) {
        const StepRun& st = in.steps[i];
        StepInfo s;
        s.name = in.step_names[i];
        s.state = st.state;
        s.attempts = st.attempts;
        s.compensation_attempts = st.compensation_attempts;
        s.started = st.started;
        s.finished = st.finished;
        s.duration = st.duration;
        s.last_error = st.last_error;
        info.steps.push_back(std::move(s));
    }
    return info;
}

std::optional<Info> Engine::info(std::string_view id) const {
    const std::lock_guard lock(mutex_);
    const Instance* in = find(id);
    if (in == nullptr) return std::nullopt;
    return info_of(*in);
}

std::vector<Info> Engine::list(std::optional<State> state) const {
    const std::lock_guard lock(mutex_);
    std::vector<Info> out;
    for (const auto& [id, in] : instances_)
        if (!state || in->visible == *state) out.push_back(info_of(*in));
    std::sort(out.begin(), out.end(), [](const Info& a, const Info& b) {
        return a.created != b.created ? a.created < b.created : a.id < b.id;
    });
    return out;
}

bool Engine::empty() const {
    const std::lock_guard lock(mutex_);
    return instances_.empty();
}

std::size_t Engine::purge(WallTime before) {
    std::size_t removed = 0;
    std::uint64_t last = 0;
    {
        const std::lock_guard lock(mutex_);
        for (auto it = instances_.begin(); it != instances_.end();) {
            const Instance& in = *it->second;
            if (!is_terminal(in.visible) || in.updated >= before || in.stalled || in.busy != 0) {
                ++it;
                continue;
            }
            auto seq = journal_.submit(store::SagaRemoved{in.id});
            if (!seq) break;  // keep it: the log must not disagree with memory
            last = *seq;
            it = instances_.erase(it);
            ++removed;
            changed_.notify_all();
        }
    }
    if (last != 0) (void)journal_.sync(last);
    if (removed != 0) host_.log().debug("forgot {} finished saga(s)", removed);
    return removed;
}

std::optional<Info> Engine::wait(std::string_view id, milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    if (find(id) == nullptr) return std::nullopt;
    // Found again on every wake: purge() may have forgotten it meanwhile.
    const Instance* in = nullptr;
    changed_.wait_for(lock, timeout, [&] {
        in = find(id);
        return in == nullptr || is_terminal(in->visible) || in->visible == State::compensation_failed || in->stalled;
    });
    if (in == nullptr) return std::nullopt;
    return info_of(*in);
}

}  // namespace txflow::saga
