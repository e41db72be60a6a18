#pragma once
// The saga engine: drives instances through their state machines on the
// scheduler's workers and timer, writing every transition to the journal
// before acting on it. Internal; the public face is Scheduler's saga methods.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "saga/recovery_gate.hpp"
#include "store/journal.hpp"
#include "txflow/observe/events.hpp"
#include "txflow/observe/trace.hpp"
#include "txflow/saga/saga.hpp"

namespace spdlog {
class logger;
}

namespace txflow::saga {

// What the engine needs from its scheduler.
class EngineHost {
public:
    virtual ~EngineHost() = default;
    virtual Clock& clock() = 0;
    virtual spdlog::logger& log() = 0;
    // Runs task on a worker; false if the pool refused it (stopping).
    virtual bool submit(Priority priority, std::string_view queue, std::function<void()> task) = 0;
    // Calls fn on the timer thread at `due` (keep it short); returns an id for cancel_call.
    virtual std::uint64_t call_at(SteadyTime due, std::function<void()> fn) = 0;
    virtual void cancel_call(std::uint64_t id) = 0;
    virtual bool has_listeners() const = 0;
    virtual void emit(const Event& event) = 0;  // called without engine locks
    virtual std::uint64_t seed() = 0;
    virtual observe::Tracer* tracer() = 0;  // null: tracing off
    // How many tasks of recovered sagas may be queued or running at once.
    virtual std::size_t recovery_concurrency() = 0;
};

struct Instance;

class Engine {
public:
    Engine(EngineHost& host, store::Journal& journal);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void register_definition(const DefinitionPtr& def);

    struct Started {
        std::string id;
        bool created = false;
    };
    // Throws std::runtime_error when the store cannot record the new saga.
    // parent: a trace the saga's span continues (else a new one, when tracing).
    Started start(const DefinitionPtr& def, nlohmann::json input, std::string key,
                  const observe::TraceContext* parent = nullptr);

    // How run_here() left the saga.
    enum class Here : std::uint8_t {
        ended,      // succeeded, compensated, or parked for an operator
        yielded,    // should_yield() said so at a step boundary: the next step has not begun
        elsewhere,  // driven by the engine's own tasks (a retry, a parallel group, another driver)
    };
    // Starts the saga (or finds it, by key) and drives it on the calling
    // thread (a preemptible job's worker): between forward steps, never inside
    // a step or a compensation, should_yield() may stop it; a later call with
    // the same key goes on at the next step.
    Here run_here(const DefinitionPtr& def, nlohmann::json input, std::string key,
                  const std::function<bool()>& should_yield, const observe::TraceContext* parent = nullptr);

    // Rebuilds instances from the journal's state (once, before on_start).
    void recover(const store::LiveState& state);
    // The scheduler started: run what waits (new and recovered sagas).
    void on_start();
    // The scheduler stops: start nothing new, ask running steps to stop.
    void on_stop();

    [[nodiscard]] std::optional<Info> info(std::string_view id) const;
    [[nodiscard]] std::vector<Info> list(std::optional<State> state) const;
    bool retry_compensation(std::string_view id);
    bool resolve_compensation(std::string_view id, std::string note);
    bool cancel(std::string_view id, std::string reason);
    std::optional<Info> wait(std::string_view id, std::chrono::milliseconds timeout) const;
    // Forgets succeeded and compensated sagas that ended before `before`.
    std::size_t purge(WallTime before);
    // No instance at all (nothing a purge could ever forget).
    [[nodiscard]] bool empty() const;

private:
    enum class StepResult : std::uint8_t { succeeded, retry_scheduled, failed, stalled };

    Here drive(Instance& in, const std::function<bool()>* should_yield = nullptr);
    Started start_instance(const DefinitionPtr& def, nlohmann::json input, std::string key,
                           const observe::TraceContext* parent, bool drive_now);
    StepResult run_attempt(Instance& in, std::size_t step, bool compensation);
    std::vector<std::size_t> launch_group(Instance& in, std::size_t first, std::size_t end);
    void run_group_step(Instance& in, std::size_t step);
    bool finish_group(Instance& in, std::unique_lock<std::mutex>& lock);  // true: drive on
    void schedule(Instance& in, std::function<void()> task);
    bool submit(Instance& in, std::function<void()> task);  // false: refused (stopping)
    void schedule_drive(Instance& in);

    // Transitions, under mutex_: check the table, submit the record, apply.
    // They return the record's seq (0 when the store failed: the instance is
    // stalled) for the caller to sync after unlocking.
    std::uint64_t saga_to(Instance& in, State to, std::string error);
    // data: the saga's data after the step, moved into the record (and kept as the committed data).
    std::uint64_t step_to(Instance& in, std::size_t step, State to, std::string error, std::optional<std::string>* data,
                          std::chrono::nanoseconds duration);
    bool durable(Instance& in, std::unique_lock<std::mutex>& lock, std::uint64_t seq);  // false: stalled
    void stall(Instance& in, const std::string& why);
    // compensating -> compensation_failed, with an alert; under mutex_.
    void park(Instance& in, std::unique_lock<std::mutex>& lock, const std::string& why);
    void publish(Instance& in);
    void flush_events();
    struct PendingEvent;
    void deliver(const std::vector<PendingEvent>& batch);

    Info info_of(const Instance& in) const;
    Instance* find(std::string_view id) const;
    std::string new_id(std::string_view definition);

    EngineHost& host_;
    store::Journal& journal_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::unordered_map<std::string, std::unique_ptr<Instance>> instances_;
    std::unordered_map<std::string, DefinitionPtr> definitions_;
    std::vector<Instance*> waiting_;  // to drive once started / once their definition is registered
    RecoveryGate recovery_gate_;      // recovered sagas' tasks: a share of the workers
    std::mt19937_64 rng_;             // retry jitter; used under mutex_
    bool started_ = false;
    bool stopping_ = false;
    std::uint64_t next_id_ = 0;

    struct PendingEvent {
    public:
        EventKind kind;
        std::string saga;
        std::string detail;
        std::string error;
    };
    std::vector<PendingEvent> events_;  // raised under mutex_, delivered by flush_events()
};

}  // namespace txflow::saga
