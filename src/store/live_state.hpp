#pragma once
// The records' payloads as structs, and LiveState: the fold of every record
// so far, which is what a snapshot saves and what recovery starts from.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "txflow/saga/state.hpp"
#include "txflow/store/records.hpp"

namespace txflow::store {

struct SagaCreated {
    std::string id;
    std::string definition;
    std::vector<std::string> steps;
    std::string data;  // JSON text
    std::int64_t at_ms = 0;
};
struct SagaStateChange {
    std::string id;
    saga::State to{};
    std::string error;  // failed / compensation_failed: why; compensated by hand: the operator's note
    std::int64_t at_ms = 0;
};
// The step records (two a step, the hot path) come over a string type:
// std::string owns the text (what the engine writes), std::string_view reads
// it in place in the payload (LiveState::apply copies only what it keeps).
// One decode() serves both, so the field order is written once.
template <class Str>
struct BasicStepStateChange {
    Str id;
    std::uint32_t step = 0;
    saga::State to{};
    Str error;
    std::optional<Str> data;       // succeeded: the saga's data after the step
    std::int64_t duration_ns = 0;  // time spent in the attempt that ended here
    std::int64_t at_ms = 0;
};
using StepStateChange = BasicStepStateChange<std::string>;
using StepStateView = BasicStepStateChange<std::string_view>;

template <class Str>
struct BasicStepAttempt {
    Str id;
    std::uint32_t step = 0;
    bool compensation = false;
    std::uint32_t attempt = 0;
    Str error;  // why the previous attempt failed
    std::int64_t duration_ns = 0;
    std::int64_t at_ms = 0;
};
using StepAttempt = BasicStepAttempt<std::string>;
using StepAttemptView = BasicStepAttempt<std::string_view>;

struct SagaData {
    std::string id;
    std::string data;
};
struct SagaRemoved {
    std::string id;
};
struct JobFired {
    std::string job;
    std::int64_t fire_ms = 0;
};
struct RetryArmed {
    std::uint64_t retry = 0;
    std::string job;
    std::int64_t fire_ms = 0;
    std::uint32_t attempt = 0;  // the attempt that will run
    std::int64_t due_ms = 0;    // wall time it is due
};
struct RetryDone {
    std::uint64_t retry = 0;
};
struct DeadLetterAdded {
    std::uint64_t id = 0;
    std::string job;
    std::int64_t fire_ms = 0;
    std::uint32_t attempts = 0;
    std::string error;
    std::int64_t failed_ms = 0;
};
struct DeadLetterRemoved {
    std::uint64_t id = 0;
};

void encode(const SagaCreated& r, std::string& out);
void encode(const SagaStateChange& r, std::string& out);
void encode(const StepStateChange& r, std::string& out);
void encode(const StepAttempt& r, std::string& out);
void encode(const SagaData& r, std::string& out);
void encode(const SagaRemoved& r, std::string& out);
void encode(const JobFired& r, std::string& out);
void encode(const RetryArmed& r, std::string& out);
void encode(const RetryDone& r, std::string& out);
void encode(const DeadLetterAdded& r, std::string& out);
void encode(const DeadLetterRemoved& r, std::string& out);

// Encodes into out (cleared first; its capacity is reused).
template <class R>
std::string encode(const R& r) {
    std::string out;
    encode(r, out);
    return out;
}

bool decode(std::string_view in, SagaCreated& r);
bool decode(std::string_view in, SagaStateChange& r);
// For std::string and std::string_view (instantiated in live_state.cpp).
template <class Str>
bool decode(std::string_view in, BasicStepStateChange<Str>& r);
template <class Str>
bool decode(std::string_view in, BasicStepAttempt<Str>& r);
bool decode(std::string_view in, SagaData& r);
bool decode(std::string_view in, SagaRemoved& r);
bool decode(std::string_view in, JobFired& r);
bool decode(std::string_view in, RetryArmed& r);
bool decode(std::string_view in, RetryDone& r);
bool decode(std::string_view in, DeadLetterAdded& r);
bool decode(std::string_view in, DeadLetterRemoved& r);

struct LiveStep {
    saga::State state = saga::State::pending;
    std::uint32_t attempts = 0;
    std::uint32_t compensation_attempts = 0;
    std::int64_t started_ms = 0;   // 0: never
    std::int64_t finished_ms = 0;  // 0: not yet
    std::int64_t duration_ns = 0;
    std::string last_error;
};

struct LiveSaga {
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
};

// Lets the maps be searched with a string_view (no temporary string).
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct LiveState {
    std::unordered_map<std::string, LiveSaga, StringHash, std::equal_to<>> sagas;
    std::unordered_map<std::string, std::int64_t> last_fire_ms;  // job -> its last fire
    std::map<std::uint64_t, RetryArmed> retries;
    std::map<std::uint64_t, DeadLetterAdded> dead_letters;

    // Folds one record in. A record that does not decode, or names a saga
    // that does not exist, is an error (the message says which).
    [[nodiscard]] bool apply(std::uint16_t type, std::string_view payload, std::string* error = nullptr);

    [[nodiscard]] std::string encode() const;
    [[nodiscard]] static std::optional<LiveState> decode(std::string_view snapshot);
};

}  // namespace txflow::store
