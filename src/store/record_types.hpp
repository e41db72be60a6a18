#pragma once
// The payload of every record txflow writes, one struct a record type. Each
// struct names its RecordType and lists its fields once, in `fields`, in the
// order they are encoded (docs/wal-format.md); encode, decode and the
// `wal dump` describer all walk that one list, so they cannot disagree.
//
// A field list calls f(key, member) or f(key, member, Show), where key is the
// member's name in `wal dump` JSON. The encoding follows the member's type:
//   std::string / string_view   length-prefixed bytes
//   std::uint32_t / uint64_t    varint (a u32 saturates when read)
//   std::int64_t                zigzag varint
//   bool / saga::State          one byte, checked on read
//   std::optional<string>       one byte (0 or 1), then the string if 1
//   std::vector<std::string>    varint count, then each string

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>
#include "txflow/core/export.hpp"

#include "store/codec.hpp"
#include "txflow/saga/state.hpp"
#include "txflow/store/records.hpp"

namespace txflow::store {

// How a field shows in `wal dump` (the encoding does not depend on it).
enum class Show : std::uint8_t {
    value,         // as it is (a saga::State by its name)
    unless_empty,  // left out when empty
    json_text,     // JSON text, shown as JSON when it parses; an optional is left out when not set
    hidden,        // not shown
};

struct TXFLOW_EXPORT SagaCreated {
    static constexpr RecordType type = RecordType::saga_created;
    std::string id;
    std::string definition;
    std::vector<std::string> steps;
    std::string data;  // JSON text
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
        f("definition", r.definition);
        f("steps", r.steps);
        f("data", r.data, Show::json_text);
        f("at_ms", r.at_ms);
    }
};

// A traced saga's span: written after its saga_created (older logs have none).
struct TXFLOW_EXPORT SagaTrace {
    static constexpr RecordType type = RecordType::saga_trace;
    std::string id;
    std::string traceparent;  // the saga's own span
    std::string tracestate;
    std::string parent_span;  // 16 hex digits: the span it continues; empty: a root

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
        f("traceparent", r.traceparent);
        f("tracestate", r.tracestate, Show::unless_empty);
        f("parent_span", r.parent_span, Show::unless_empty);
    }
};

struct TXFLOW_EXPORT SagaStateChange {
    static constexpr RecordType type = RecordType::saga_state;
    std::string id;
    saga::State to{};
    std::string error;  // failed / compensation_failed: why; compensated by hand: the operator's note
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
        f("to", r.to);
        f("error", r.error, Show::unless_empty);
        f("at_ms", r.at_ms);
    }
};

// The step records (two a step, the hot path) come over a string type:
// std::string owns the text (what the engine writes), std::string_view reads
// it in place in the payload (LiveState::apply copies only what it keeps).
template <class Str>
struct TXFLOW_EXPORT BasicStepStateChange {
    static constexpr RecordType type = RecordType::step_state;
    Str id;
    std::uint32_t step = 0;
    saga::State to{};
    Str error;
    std::optional<Str> data;       // succeeded: the saga's data after the step
    std::int64_t duration_ns = 0;  // time spent in the attempt that ended here
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
        f("step", r.step);
        f("to", r.to);
        f("error", r.error, Show::unless_empty);
        f("data", r.data, Show::json_text);
        f("duration_ns", r.duration_ns);
        f("at_ms", r.at_ms);
    }
};
using StepStateChange = BasicStepStateChange<std::string>;
using StepStateView = BasicStepStateChange<std::string_view>;

template <class Str>
struct TXFLOW_EXPORT BasicStepAttempt {
    static constexpr RecordType type = RecordType::step_attempt;
    Str id;
    std::uint32_t step = 0;
    bool compensation = false;
    std::uint32_t attempt = 0;
    Str error;  // why the previous attempt failed
    std::int64_t duration_ns = 0;
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
        f("step", r.step);
        f("compensation", r.compensation);
        f("attempt", r.attempt);
        f("error", r.error, Show::unless_empty);
        f("duration_ns", r.duration_ns, Show::hidden);
        f("at_ms", r.at_ms);
    }
};
using StepAttempt = BasicStepAttempt<std::string>;
using StepAttemptView = BasicStepAttempt<std::string_view>;

struct TXFLOW_EXPORT SagaData {
    static constexpr RecordType type = RecordType::saga_data;
    std::string id;
    std::string data;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
        f("data", r.data, Show::json_text);
    }
};

struct TXFLOW_EXPORT SagaRemoved {
    static constexpr RecordType type = RecordType::saga_removed;
    std::string id;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("saga", r.id);
    }
};

struct TXFLOW_EXPORT JobFired {
    static constexpr RecordType type = RecordType::job_fired;
    std::string job;
    std::int64_t fire_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("job", r.job);
        f("fire_ms", r.fire_ms);
    }
};

struct TXFLOW_EXPORT RetryArmed {
    static constexpr RecordType type = RecordType::retry_armed;
    std::uint64_t retry = 0;
    std::string job;
    std::int64_t fire_ms = 0;
    std::uint32_t attempt = 0;  // the attempt that will run
    std::int64_t due_ms = 0;    // wall time it is due

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("retry", r.retry);
        f("job", r.job);
        f("fire_ms", r.fire_ms);
        f("attempt", r.attempt);
        f("due_ms", r.due_ms);
    }
};

// A traced run's retry: the span its next attempt continues, so a retry
// re-armed after a restart stays in the run's trace.
struct TXFLOW_EXPORT RetryTrace {
    static constexpr RecordType type = RecordType::retry_trace;
    std::uint64_t retry = 0;
    std::string traceparent;
    std::string tracestate;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("retry", r.retry);
        f("traceparent", r.traceparent);
        f("tracestate", r.tracestate, Show::unless_empty);
    }
};

struct TXFLOW_EXPORT RetryDone {
    static constexpr RecordType type = RecordType::retry_done;
    std::uint64_t retry = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("retry", r.retry);
    }
};

struct TXFLOW_EXPORT DeadLetterAdded {
    static constexpr RecordType type = RecordType::dead_letter;
    std::uint64_t id = 0;
    std::string job;
    std::int64_t fire_ms = 0;
    std::uint32_t attempts = 0;
    std::string error;
    std::int64_t failed_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("dead_letter", r.id);
        f("job", r.job);
        f("fire_ms", r.fire_ms);
        f("attempts", r.attempts);
        f("error", r.error);
        f("failed_ms", r.failed_ms);
    }
};

struct TXFLOW_EXPORT DeadLetterRemoved {
    static constexpr RecordType type = RecordType::dead_letter_removed;
    std::uint64_t id = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("dead_letter", r.id);
    }
};

// An atomic transaction began: written (and synced) before any prepare is sent.
struct TXFLOW_EXPORT AtomicBegin {
    static constexpr RecordType type = RecordType::atomic_begin;
    std::string id;
    std::string definition;
    std::vector<std::string> participants;
    std::string data;  // JSON text
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("txn", r.id);
        f("definition", r.definition);
        f("participants", r.participants);
        f("data", r.data, Show::json_text);
        f("at_ms", r.at_ms);
    }
};

// The per-participant atomic records (eight a transaction with the begin)
// come over a string type too, like the step records: the coordinator writes
// views of its own strings, LiveState::apply reads them in place.
template <class Str>
struct TXFLOW_EXPORT BasicAtomicVote {
    static constexpr RecordType type = RecordType::atomic_vote;
    Str id;
    std::uint32_t participant = 0;
    bool yes = false;
    Str reason;
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("txn", r.id);
        f("participant", r.participant);
        f("yes", r.yes);
        f("reason", r.reason, Show::unless_empty);
        f("at_ms", r.at_ms);
    }
};
using AtomicVote = BasicAtomicVote<std::string>;
using AtomicVoteView = BasicAtomicVote<std::string_view>;

// The decision: synced before any commit or abort is sent. No decision
// record means abort (presumed abort).
template <class Str>
struct TXFLOW_EXPORT BasicAtomicDecision {
    static constexpr RecordType type = RecordType::atomic_decision;
    Str id;
    bool commit = false;
    Str reason;  // abort: why
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("txn", r.id);
        f("commit", r.commit);
        f("reason", r.reason, Show::unless_empty);
        f("at_ms", r.at_ms);
    }
};
using AtomicDecision = BasicAtomicDecision<std::string>;
using AtomicDecisionView = BasicAtomicDecision<std::string_view>;

// A participant acknowledged the decided phase (commit or abort, as decided).
template <class Str>
struct TXFLOW_EXPORT BasicAtomicAck {
    static constexpr RecordType type = RecordType::atomic_ack;
    Str id;
    std::uint32_t participant = 0;
    std::uint32_t attempts = 0;  // attempts it took
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("txn", r.id);
        f("participant", r.participant);
        f("attempts", r.attempts);
        f("at_ms", r.at_ms);
    }
};
using AtomicAck = BasicAtomicAck<std::string>;
using AtomicAckView = BasicAtomicAck<std::string_view>;

// A participant failed its commit past the stall limit: it shows as
// commit_stalled (with this error) after a restart too, and is still retried.
struct TXFLOW_EXPORT AtomicStalled {
    static constexpr RecordType type = RecordType::atomic_stalled;
    std::string id;
    std::uint32_t participant = 0;
    std::uint32_t attempts = 0;  // failed attempts so far
    std::string error;           // the last one's
    std::int64_t at_ms = 0;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("txn", r.id);
        f("participant", r.participant);
        f("attempts", r.attempts);
        f("error", r.error);
        f("at_ms", r.at_ms);
    }
};

// A finished (committed or aborted) transaction was forgotten (retention).
struct TXFLOW_EXPORT AtomicRemoved {
    static constexpr RecordType type = RecordType::atomic_removed;
    std::string id;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("txn", r.id);
    }
};

// A job's saved progress (JobContext::checkpoint): its next run reads it back.
struct JobCheckpoint {
    static constexpr RecordType type = RecordType::job_checkpoint;
    std::string job;
    std::string data;  // the job's bytes, opaque

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("job", r.job);
        f("data", r.data, Show::hidden);  // bytes, maybe not text
    }
};

struct JobCheckpointCleared {
    static constexpr RecordType type = RecordType::job_checkpoint_cleared;
    std::string job;

    template <class Self, class F>
    static void fields(Self& r, F&& f) {
        f("job", r.job);
    }
};

// A record payload: it names its type and lists its fields.
template <class R>
concept RecordPayload = requires(R& r) {
    { R::type } -> std::convertible_to<RecordType>;
    R::fields(r, [](const char*, auto&, Show = Show::value) {});
};

// Calls fn(R{}) style: fn.template operator()<R>() for the owning struct of
// each record type; returns false for an unknown type.
template <class Fn>
bool visit_record_type(RecordType type, Fn&& fn) {
    switch (type) {
        case RecordType::saga_created: return fn.template operator()<SagaCreated>();
        case RecordType::saga_state: return fn.template operator()<SagaStateChange>();
        case RecordType::step_state: return fn.template operator()<StepStateChange>();
        case RecordType::step_attempt: return fn.template operator()<StepAttempt>();
        case RecordType::saga_data: return fn.template operator()<SagaData>();
        case RecordType::saga_removed: return fn.template operator()<SagaRemoved>();
        case RecordType::saga_trace: return fn.template operator()<SagaTrace>();
        case RecordType::job_fired: return fn.template operator()<JobFired>();
        case RecordType::retry_armed: return fn.template operator()<RetryArmed>();
        case RecordType::retry_done: return fn.template operator()<RetryDone>();
        case RecordType::dead_letter: return fn.template operator()<DeadLetterAdded>();
        case RecordType::dead_letter_removed: return fn.template operator()<DeadLetterRemoved>();
        case RecordType::atomic_begin: return fn.template operator()<AtomicBegin>();
        case RecordType::atomic_vote: return fn.template operator()<AtomicVote>();
        case RecordType::atomic_decision: return fn.template operator()<AtomicDecision>();
        case RecordType::atomic_ack: return fn.template operator()<AtomicAck>();
        case RecordType::job_checkpoint: return fn.template operator()<JobCheckpoint>();
        case RecordType::job_checkpoint_cleared: return fn.template operator()<JobCheckpointCleared>();
        case RecordType::atomic_stalled: return fn.template operator()<AtomicStalled>();
        case RecordType::atomic_removed: return fn.template operator()<AtomicRemoved>();
        case RecordType::retry_trace: return fn.template operator()<RetryTrace>();
    }
    return false;
}

namespace detail {

template <class T>
inline constexpr bool is_optional = false;
template <class T>
inline constexpr bool is_optional<std::optional<T>> = true;

struct FieldWriter {
    codec::Writer w;
    template <class T>
    void operator()(const char* /*key*/, const T& v, Show /*show*/ = Show::value) {
        if constexpr (std::is_same_v<T, bool>) {
            w.u8(v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, saga::State>) {
            w.u8(static_cast<std::uint8_t>(v));
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
            w.svarint(v);
        } else if constexpr (std::is_unsigned_v<T>) {
            w.varint(v);
        } else if constexpr (is_optional<T>) {
            w.u8(v ? 1 : 0);
            if (v) w.str(*v);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            w.varint(v.size());
            for (const auto& s : v) w.str(s);
        } else {
            w.str(v);
        }
    }
};

struct FieldReader {
    codec::Reader in;
    std::size_t bound;  // payload size: no count can be larger
    bool valid = true;  // every byte that must be 0/1 or a state was
    template <class T>
    void operator()(const char* /*key*/, T& v, Show /*show*/ = Show::value) {
        if constexpr (std::is_same_v<T, bool>) {
            const auto b = in.u8();
            valid = valid && b <= 1;
            v = b == 1;
        } else if constexpr (std::is_same_v<T, saga::State>) {
            const auto b = in.u8();
            valid = valid && b < saga::kStateCount;
            v = static_cast<saga::State>(b);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
            v = in.svarint();
        } else if constexpr (std::is_same_v<T, std::uint32_t>) {
            const auto n = in.varint();
            v = n <= UINT32_MAX ? static_cast<std::uint32_t>(n) : UINT32_MAX;
        } else if constexpr (std::is_unsigned_v<T>) {
            v = in.varint();
        } else if constexpr (is_optional<T>) {
            const auto has = in.u8();
            valid = valid && has <= 1;
            if (has == 1) v.emplace(in.str());
            else v.reset();
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            const auto n = in.varint();
            v.clear();
            if (n > bound) {
                valid = false;
                return;
            }
            for (std::uint64_t i = 0; i < n && in.ok(); ++i) v.emplace_back(in.str());
        } else {
            v = in.str();
        }
    }
};

}  // namespace detail

// Encodes into out (cleared first; its capacity is reused).
template <RecordPayload R>
void encode(const R& r, std::string& out) {
    out.clear();
    R::fields(r, detail::FieldWriter{codec::Writer(out)});
}

template <RecordPayload R>
std::string encode(const R& r) {
    std::string out;
    encode(r, out);
    return out;
}

// True when in holds exactly one R: every byte consumed, none missing, every
// flag and state in range. A std::string_view member points into in.
template <RecordPayload R>
bool decode(std::string_view in, R& r) {
    detail::FieldReader reader{codec::Reader(in), in.size()};
    R::fields(r, reader);
    return reader.valid && reader.in.ok() && reader.in.done();
}

}  // namespace txflow::store
