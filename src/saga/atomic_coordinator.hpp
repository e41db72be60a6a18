#pragma once
// The atomic transaction coordinator: prepare every participant in parallel
// (each with a timeout), write the decision to the journal and wait for it to
// be durable, then send commit or abort to each participant until each
// acknowledges. Runs on the scheduler's workers and timer through the saga
// engine's host. Internal; the public face is Scheduler's transaction methods.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "saga/engine.hpp"
#include "store/journal.hpp"
#include "txflow/saga/atomic.hpp"

namespace txflow::observe {
class Counter;
}

namespace txflow::atomic {

struct Part {
    ParticipantState state = ParticipantState::preparing;
    std::string reason;      // a no vote's why
    std::string last_error;  // of the last failed commit or abort
    std::uint32_t attempts = 0;
    bool voted = false;
    bool prepare_running = false;  // its prepare task is queued or running
    bool dispatched = false;       // a commit/abort attempt is queued, running or waits on its backoff
    bool acked = false;
    bool alerted = false;  // commit_stalled was raised
    std::optional<WallTime> first_failure;
};

class Coordinator;

// enable_shared_from_this: the prepare deadline queue holds a weak reference.
struct Txn : std::enable_shared_from_this<Txn> {
    // Its tasks capture the transaction and a participant index only: small
    // enough for std::function's inline buffer, no allocation a hand-off.
    Coordinator* coordinator = nullptr;
    std::string id;
    std::string definition;
    DefinitionPtr def;  // null until registered (a recovered transaction)
    nlohmann::json data;
    std::vector<std::string> names;
    std::vector<Part> parts;
    std::optional<bool> decision;  // true: commit
    bool deciding = false;         // a decision is being made (once)
    bool recovered = false;        // began before this process
    bool launched = false;
    bool stalled = false;  // the store failed under it
    std::string reason;
    std::size_t votes = 0;
    std::size_t acks = 0;
    bool deadline_armed = false;  // its prepare deadline (one for all participants) still counts
    // Stops the prepares still running (a no vote, the timeout, an abort, a
    // shutdown all stop every one that has not returned): one for all.
    std::stop_source stop;
    mutable std::size_t waiters = 0;  // threads in wait() on it: only they need a wake-up
    WallTime created{};
    WallTime updated{};
    State last_state = State::preparing;
};

class Coordinator {
public:
    Coordinator(saga::EngineHost& host, store::Journal& journal);
    Coordinator(const Coordinator&) = delete;
    Coordinator& operator=(const Coordinator&) = delete;

    void register_definition(const DefinitionPtr& def);
    struct Started {
        std::string id;
        bool created = false;
    };
    // Throws std::runtime_error when the store cannot record the begin.
    Started start(const DefinitionPtr& def, nlohmann::json input, std::string key);

    void recover(const store::LiveState& state);  // once, before on_start
    void on_start();
    void on_stop();

    // Counted as transactions finish and phases are retried (SchedulerOptions::metrics).
    struct Metrics {
        observe::Counter* committed = nullptr;
        observe::Counter* aborted = nullptr;
        observe::Counter* retries = nullptr;  // commit or abort attempts that failed and are sent again
    };
    void set_metrics(Metrics m);  // before start
    [[nodiscard]] std::array<std::size_t, kStateCount> count_by_state() const;

    // Forgets committed and aborted transactions last changed before `cutoff`
    // (an atomic_removed record each); returns how many.
    std::size_t purge(WallTime cutoff);
    [[nodiscard]] bool empty() const;

    [[nodiscard]] std::optional<Info> info(std::string_view id) const;
    [[nodiscard]] std::vector<Info> list(std::optional<State> state) const;
    // Until the transaction is committed, aborted or commit_stalled.
    std::optional<Info> wait(std::string_view id, std::chrono::milliseconds timeout) const;

private:
    using Lock = std::unique_lock<std::mutex>;
    // atomic_coordinator.cpp
    void launch(Txn& t);  // under mutex_
    void note(Txn& t);    // under mutex_: a changed state becomes an event
    void event(EventKind kind, const Txn& t, std::string detail, std::string error);
    void flush_events();
    [[nodiscard]] bool listening() const { return host_.has_listeners(); }
    Info info_of(const Txn& t) const;
    std::string new_id(std::string_view definition);

    // atomic_protocol.cpp
    void prepare(Txn& t, std::size_t i);                             // on a worker
    void prepare_timed_out(Txn& t);                                  // under mutex_, on the timer thread
    bool vote(Txn& t, std::size_t i, bool yes, std::string reason);  // under mutex_; true: decide now
    void decide(Txn& t, bool commit, std::string reason);            // on a worker
    // under mutex_; `defer`: mark it sent but let the caller run it (run_phase) after unlocking
    void dispatch(Txn& t, std::size_t i, bool defer = false);
    void run_phase(Txn& t, std::size_t i);                             // on a worker
    void retry_phase(Txn& t, std::size_t i);                           // under mutex_: after the backoff
    void submit_task(Txn& t, std::function<void()> task, bool* flag);  // under mutex_

    // atomic_deadlines.cpp
    void arm_deadline(Txn& t);                     // under mutex_
    void deadlines_due(std::uint64_t generation);  // on the timer thread

    saga::EngineHost& host_;
    store::Journal& journal_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    // Erased only by purge(), once final: no task or timer refers to it then
    // (a waiter holds its own reference).
    std::unordered_map<std::string, std::shared_ptr<Txn>> txns_;
    Metrics metrics_;
    std::unordered_map<std::string, DefinitionPtr> definitions_;
    std::vector<Txn*> awaiting_definition_;  // recovered, their definition not registered yet
    bool started_ = false;
    bool stopping_ = false;
    std::uint64_t next_id_ = 0;

    // The prepare deadlines, earliest first, behind one host timer (armed for
    // the earliest): a call_at and a cancel_call a transaction would lock the
    // scheduler twice and wake its timer thread each time. A decided
    // transaction's entry stays until it reaches the top (deadline_armed false).
    struct Deadline {
        SteadyTime due;
        std::weak_ptr<Txn> txn;
        bool operator>(const Deadline& other) const { return due > other.due; }
    };
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
    std::uint64_t deadline_call_ = 0;  // the host call armed for deadlines_, 0: none
    SteadyTime deadline_call_due_{};
    std::uint64_t deadline_generation_ = 0;  // tells a cancelled call that fired anyway from the armed one

    struct PendingEvent {
        EventKind kind;
        std::string txn;
        std::string detail;
        std::string error;
    };
    std::vector<PendingEvent> events_;  // raised under mutex_, delivered by flush_events()
    std::mutex delivery_;               // one deliverer at a time: events in the order raised
};

}  // namespace txflow::atomic
