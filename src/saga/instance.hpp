#pragma once
// A saga instance as the engine drives it, and its steps' run state.
// Internal: guarded by Engine::mutex_ except where a field says otherwise.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "txflow/core/clock.hpp"
#include "txflow/observe/trace.hpp"
#include "txflow/saga/saga.hpp"

namespace txflow::saga {

// The saga data as the store keeps it (bad UTF-8 replaced, never a throw).
inline std::string data_text(const nlohmann::json& data) {
    return data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct StepRun {
    State state = State::pending;
    std::uint32_t attempts = 0;
    std::uint32_t compensation_attempts = 0;
    std::uint32_t round_attempts = 0;  // compensation attempts since it (re)started compensating
    std::optional<WallTime> started;
    std::optional<WallTime> finished;
    std::chrono::nanoseconds duration{0};
    std::chrono::nanoseconds unrecorded_duration{0};  // a failed attempt's time, recorded with the next attempt
    std::string last_error;
    // Recovered as running: an attempt cut short by the restart may have acted.
    bool interrupted = false;
    std::shared_ptr<std::stop_source> stop;         // the attempt in progress, if any
    std::shared_ptr<std::stop_source> stop_source;  // reused by attempts until a stop is requested
    SteadyTime first_attempt{};
    std::chrono::milliseconds previous_delay{0};
    nlohmann::json group_data;  // parallel: this step's copy of the data
};

struct Instance {
    std::string id;
    std::string definition;
    DefinitionPtr def;  // null: recovered, definition not registered yet
    State state = State::pending;
    nlohmann::json data;    // touched only by whoever drives the instance
    std::string committed;  // the data as last recorded: what queries show
    std::string error;
    std::string resolution;
    WallTime created{};
    WallTime updated{};
    std::vector<std::string> step_names;
    std::vector<StepRun> steps;
    std::size_t cursor = 0;  // forward: the first step not known to have succeeded
    // A parallel group in flight: [cursor, group_end).
    std::size_t group_end = 0;
    std::size_t group_pending = 0;
    nlohmann::json group_base;
    std::string fail_reason;   // set by cancel() or a failed group: stop going forward
    std::uint32_t busy = 0;    // tasks queued or running for it (purge() waits for 0)
    bool retry_armed = false;  // a step's retry waits on the timer: its task will drive the instance
    // The state as far as the store has made it durable: what queries and
    // waiters see, so no caller is told of a state a crash could undo.
    State visible = State::pending;
    bool recovered = false;
    bool stalled = false;  // the store failed: nothing more happens until a restart
    // Tracing (saga/saga_trace.hpp): the saga's span, set before it is driven, then read-only.
    std::optional<observe::TraceContext> trace;
    observe::SpanId trace_parent{};  // the span it continues (zero: a root)
    bool trace_ended = false;        // its span was exported (under Engine::mutex_)
};

}  // namespace txflow::saga
