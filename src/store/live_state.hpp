#pragma once
// LiveState: the fold of every record so far, which is what a snapshot saves
// and what recovery starts from. The records themselves: store/record_types.hpp.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include "txflow/core/export.hpp"

#include "store/record_types.hpp"
#include "txflow/saga/state.hpp"

namespace txflow::store {

struct TXFLOW_EXPORT LiveStep {
    saga::State state = saga::State::pending;
    std::uint32_t attempts = 0;
    std::uint32_t compensation_attempts = 0;
    std::int64_t started_ms = 0;   // 0: never
    std::int64_t finished_ms = 0;  // 0: not yet
    std::int64_t duration_ns = 0;
    std::string last_error;
};

struct TXFLOW_EXPORT LiveSaga {
    std::string id;
    std::string definition;
    saga::State state = saga::State::pending;
    std::string data;
    std::string error;
    std::string resolution;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::vector<std::string> step_names;
    std::vector<LiveStep> steps;
    std::string traceparent;  // saga_trace: the saga's span (empty: not traced)
    std::string tracestate;
    std::string trace_parent_span;
};

// An atomic transaction as its records leave it.
struct TXFLOW_EXPORT LiveAtomic {
    enum class Decision : std::uint8_t { none, commit, abort };
    enum class Vote : std::uint8_t { none, yes, no };
    std::string id;
    std::string definition;
    std::string data;
    std::vector<std::string> participants;
    std::vector<Vote> votes;
    std::vector<std::string> reasons;  // a no vote's why
    std::vector<bool> acked;
    // atomic_stalled: per participant, failed commit attempts (0: not stalled) and the last error.
    std::vector<std::uint32_t> stalled_attempts;
    std::vector<std::string> last_errors;
    Decision decision = Decision::none;
    std::string reason;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
};

// Lets the maps be searched with a string_view (no temporary string).
struct TXFLOW_EXPORT StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct TXFLOW_EXPORT LiveState {
    std::unordered_map<std::string, LiveSaga, StringHash, std::equal_to<>> sagas;
    std::unordered_map<std::string, std::int64_t> last_fire_ms;  // job -> its last fire
    std::map<std::uint64_t, RetryArmed> retries;
    std::map<std::uint64_t, RetryTrace> retry_traces;  // retry -> the trace its attempt continues
    std::map<std::uint64_t, DeadLetterAdded> dead_letters;
    std::map<std::string, LiveAtomic, std::less<>> atomics;
    std::map<std::string, std::string, std::less<>> checkpoints;  // job -> its saved progress

    // Folds one record in. A record that does not decode, or names a saga
    // that does not exist, is an error (the message says which).
    [[nodiscard]] bool apply(std::uint16_t type, std::string_view payload, std::string* error = nullptr);

    [[nodiscard]] std::string encode() const;
    [[nodiscard]] static std::optional<LiveState> decode(std::string_view snapshot);
};

}  // namespace txflow::store
