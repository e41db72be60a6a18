#include "saga/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "common/wall_ms.hpp"
#include "saga/instance.hpp"
#include "saga/pivot.hpp"
#include "saga/saga_trace.hpp"

namespace txflow::saga {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

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

Engine::Started Engine::start(const DefinitionPtr& def, nlohmann::json input, std::string key,
                              const observe::TraceContext* parent) {
    return start_instance(def, std::move(input), std::move(key), parent, true);
}

Engine::Started Engine::start_instance(const DefinitionPtr& def, nlohmann::json input, std::string key,
                                       const observe::TraceContext* parent, bool drive_now) {
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
    in.committed = data_text(in.data);
    in.created = in.updated = host_.clock().wall_now();
    in.steps.resize(def->steps().size());
    in.step_names.reserve(def->steps().size());
    for (const auto& s : def->steps()) in.step_names.push_back(s.name);
    begin_trace(in, host_.tracer(), parent);

    store::SagaCreated record{in.id, in.definition, in.step_names, in.committed, to_ms(in.created)};
    auto seq = journal_.submit(record);
    if (!seq) throw std::runtime_error(fmt::format("saga '{}': the store refused it: {}", in.id, seq.error().message));
    if (auto trace = trace_record(in)) seq = journal_.submit(*trace);  // a refusal shows at the sync below
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
    if (run_now && drive_now) schedule_drive(in);
    journal_.maybe_snapshot();
    return {id, true};
}

// Preemption of a saga-backed job (docs/preemption.md): the job's worker
// drives the saga itself, so yielding the worker happens between steps.
Engine::Here Engine::run_here(const DefinitionPtr& def, nlohmann::json input, std::string key,
                              const std::function<bool()>& should_yield, const observe::TraceContext* parent) {
    const Started s = start_instance(def, std::move(input), std::move(key), parent, false);
    Instance* in = nullptr;
    {
        const std::lock_guard lock(mutex_);
        in = find(s.id);
        if (in == nullptr) return Here::ended;  // purged: it ended long ago
        if (is_terminal(in->state) || in->state == State::compensation_failed) return Here::ended;
        auto waits = std::find(waiting_.begin(), waiting_.end(), in);
        // The scheduler's timer runs jobs just before it starts the engine: a
        // saga this run created is this run's to drive, not on_start()'s.
        if (waits != waiting_.end() && !started_ && !stopping_ && in->def && !in->recovered) {
            waiting_.erase(waits);
            waits = waiting_.end();
        }
        // Someone else drives it (a task, a retry on the timer), or it waits for
        // the engine's start or its definition: leave it to them.
        if (!in->def || in->busy != 0 || in->retry_armed || waits != waiting_.end() || stopping_)
            return Here::elsewhere;
        ++in->busy;
    }
    const Here how = drive(*in, &should_yield);
    const std::lock_guard lock(mutex_);
    --in->busy;
    return how;
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
        if (!recover_trace(in, s))
            host_.log().warn("saga '{}': its recorded trace context is unreadable; it goes on untraced", in.id);
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
    end_saga_span(host_.tracer(), in, to, now);
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

void Engine::park(Instance& in, std::unique_lock<std::mutex>& lock, const std::string& why) {
    if (!durable(in, lock, saga_to(in, State::compensation_failed, why))) return;
    host_.log().error("saga '{}' needs an operator: {}", in.id, why);
    events_.push_back({EventKind::alert, in.id, "compensation_failed", why});
}

Engine::Here Engine::drive(Instance& in, const std::function<bool()>* should_yield) {
    std::vector<std::size_t> group_tasks;
    Here how = Here::ended;
    std::unique_lock lock(mutex_);
    const std::size_t n = in.steps.size();
    for (;;) {
        if (in.stalled || stopping_) {
            how = Here::elsewhere;
            break;
        }
        if (in.state == State::pending) {
            if (!durable(in, lock, saga_to(in, State::running, {}))) break;
            continue;
        }
        if (in.state == State::running) {
            if (!in.fail_reason.empty()) {
                if (!durable(in, lock, saga_to(in, State::failed, in.fail_reason))) break;
                continue;
            }
            while (in.cursor < n && in.steps[in.cursor].state == State::succeeded) ++in.cursor;
            if (in.cursor == n) {
                if (!durable(in, lock, saga_to(in, State::succeeded, {}))) break;
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
                how = Here::elsewhere;
                break;
            }
            // A step boundary: the step before is durable, the next not begun.
            if (should_yield != nullptr && (*should_yield)()) {
                how = Here::yielded;
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
                if (!durable(in, lock, saga_to(in, State::failed, why))) break;
                continue;
            }
            how = Here::elsewhere;
            break;  // a retry is armed, or the store failed
        }
        if (in.state == State::failed) {
            if (!durable(in, lock, saga_to(in, State::compensating, {}))) break;
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
                    if (!durable(in, lock, step_to(in, i, State::failed, "interrupted by a restart", {}, {})))
                        return Here::elsewhere;
                }
            }
            if (!next) {
                if (!durable(in, lock, saga_to(in, State::compensated, {}))) break;
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
            how = Here::elsewhere;
            break;
        }
        break;  // succeeded, compensated, compensation_failed: nothing to do
    }
    lock.unlock();
    flush_events();
    for (std::size_t i : group_tasks) schedule(in, [this, &in, i] { run_group_step(in, i); });
    journal_.maybe_snapshot();
    return how;
}

}  // namespace txflow::saga
