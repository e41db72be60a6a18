#pragma once
/// @file
/// Atomic transactions: a two-phase coordinator (prepare / commit / abort)
/// beside sagas. Every participant is asked to prepare; the decision (commit
/// if every one voted yes, else abort) is made durable before any participant
/// hears it; then commit or abort is sent to each, again and again with
/// backoff, until each acknowledges. See docs/atomic.md.
///
///     auto transfer = txflow::Atomic("transfer")
///         .participant("bank-a").prepare(reserve_a).commit(confirm_a).abort(cancel_a)
///         .participant("bank-b").prepare(reserve_b).commit(confirm_b).abort(cancel_b)
///         .prepare_timeout(2s)
///         .build();                                   // throws AtomicDefinitionError
///     auto id = sched.start_atomic(transfer, {{"amount", 10}}, "order-42");  // idempotency key
///
/// The builder is a typestate: a participant needs all three of prepare,
/// commit and abort, in that order, or the program does not compile.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "txflow/core/export.hpp"

#include <nlohmann/json.hpp>

#include "txflow/core/clock.hpp"
#include "txflow/policy/retry.hpp"
#include "txflow/result.hpp"

namespace txflow {
namespace atomic {

/// The three phases of two-phase commit a participant is called for.
enum class Phase : std::uint8_t { prepare, commit, abort };

/// "prepare", "commit" or "abort".
[[nodiscard]] constexpr std::string_view to_string(Phase p) {
    switch (p) {
        case Phase::prepare: return "prepare";
        case Phase::commit: return "commit";
        case Phase::abort: return "abort";
    }
    return "unknown";
}

/// A transaction's state. committed and aborted are final; commit_stalled is
/// committing with a participant that keeps failing (still retried).
enum class State : std::uint8_t { preparing, committing, aborting, committed, aborted, commit_stalled };
/// The number of States.
inline constexpr std::size_t kStateCount = 6;

/// The state's name: "preparing", ..., "commit_stalled".
[[nodiscard]] constexpr std::string_view to_string(State s) {
    switch (s) {
        case State::preparing: return "preparing";
        case State::committing: return "committing";
        case State::aborting: return "aborting";
        case State::committed: return "committed";
        case State::aborted: return "aborted";
        case State::commit_stalled: return "commit_stalled";
    }
    return "unknown";
}

/// Sets `out` to the state named `text` (as to_string() writes it); false for an unknown name.
[[nodiscard]] constexpr bool parse_state(std::string_view text, State& out) {
    for (std::size_t i = 0; i < kStateCount; ++i) {
        if (to_string(static_cast<State>(i)) == text) {
            out = static_cast<State>(i);
            return true;
        }
    }
    return false;
}

/// True for committed and aborted: nothing more will happen.
[[nodiscard]] constexpr bool is_final(State s) {
    return s == State::committed || s == State::aborted;
}

/// A participant's answer to prepare. Throwing from prepare is a no too.
struct TXFLOW_EXPORT Vote {
    bool yes = false;    ///< true: ready to commit
    std::string reason;  ///< a no's why
    /// A yes: the participant is ready to commit.
    [[nodiscard]] static Vote commit() { return {true, {}}; }
    /// A no, with the reason; the transaction aborts.
    [[nodiscard]] static Vote refuse(std::string why) { return {false, std::move(why)}; }
};

/// What a participant's prepare, commit or abort sees.
class TXFLOW_EXPORT Context {
public:
    /// Made by the coordinator for each call (tests may build one).
    Context(std::string_view txn, std::string_view participant, Phase phase, std::uint32_t attempt,
            const nlohmann::json& data, std::stop_token stop)
        : txn_(txn),
          participant_(participant),
          phase_(phase),
          attempt_(attempt),
          data_(&data),
          stop_(std::move(stop)) {}
    /// The transaction's id.
    [[nodiscard]] std::string_view txn_id() const { return txn_; }
    /// The participant's name.
    [[nodiscard]] std::string_view participant() const { return participant_; }
    /// Which phase this call is for.
    [[nodiscard]] Phase phase() const { return phase_; }
    /// "<txn-id>/<participant>/<phase>": the same on every attempt and after a
    /// crash, so the participant can drop a duplicate commit or abort.
    [[nodiscard]] std::string idempotency_key() const {
        std::string key;
        key.reserve(txn_.size() + participant_.size() + 10);
        key.append(txn_).append("/").append(participant_).append("/").append(to_string(phase_));
        return key;
    }
    /// 1 on the first call of this phase; +1 per retry.
    [[nodiscard]] std::uint32_t attempt() const { return attempt_; }
    /// The transaction's input data.
    [[nodiscard]] const nlohmann::json& data() const { return *data_; }
    /// prepare: requested at its timeout, or when the transaction aborts meanwhile.
    [[nodiscard]] std::stop_token stop_token() const { return stop_; }

private:
    std::string_view txn_;
    std::string_view participant_;
    Phase phase_;
    std::uint32_t attempt_;
    const nlohmann::json* data_;
    std::stop_token stop_;
};

/// A participant's prepare: returns its vote (throwing is a no).
using PrepareFunction = std::function<Vote(Context&)>;
/// Returns normally to acknowledge; throws to be called again (with backoff).
/// Both must be idempotent: abort may come without a prepare, or twice.
using PhaseFunction = std::function<void(Context&)>;

/// One participant: its prepare, commit and abort.
struct TXFLOW_EXPORT Participant {
    std::string name;         ///< unique within the definition
    PrepareFunction prepare;  ///< votes yes or no
    PhaseFunction commit;     ///< applies the change, after a yes from everyone
    PhaseFunction abort;      ///< undoes a prepare (may come without one)
};

/// Timeouts and retries of an atomic transaction definition.
struct TXFLOW_EXPORT Options {
    std::chrono::milliseconds prepare_timeout{std::chrono::seconds(30)};  ///< no answer by then: a no
    /// The wait between commit (or abort) attempts: base_delay(n) of this
    /// policy; its attempt limit is ignored (a decided phase is never dropped).
    retry::Policy phase_retry = retry::exponential(std::chrono::milliseconds(100), 2.0, std::chrono::seconds(30));
    /// A participant whose commit failed this many times (or for this long,
    /// when set) shows as commit_stalled and raises an alert.
    std::uint32_t stall_after_attempts = 5;
    /// the time alternative to stall_after_attempts; empty: attempts only
    std::optional<std::chrono::milliseconds> stall_after;
};

/// Why a definition was refused: the participant, if any, and the reason.
struct TXFLOW_EXPORT DefinitionError {
    std::string participant;                                           ///< empty: about the definition as a whole
    std::string message;                                               ///< the reason
    [[nodiscard]] std::string to_string(std::string_view name) const;  ///< "atomic 'x', participant 'y': ..."
};

class Definition;
/// How definitions are shared: by every transaction, the scheduler and the builder.
using DefinitionPtr = std::shared_ptr<const Definition>;

/// An immutable, validated atomic transaction definition.
class TXFLOW_EXPORT Definition {
public:
    /// Checks: a name; at least one participant; unique non-empty names; all
    /// three callables; prepare_timeout > 0; stall_after_attempts >= 1.
    static Result<DefinitionPtr, DefinitionError> create(std::string name, std::vector<Participant> participants,
                                                         Options options = {});
    /// The definition's name (transactions are recovered by it).
    [[nodiscard]] const std::string& name() const { return name_; }
    /// The participants, in order.
    [[nodiscard]] const std::vector<Participant>& participants() const { return participants_; }
    /// The definition's options.
    [[nodiscard]] const Options& options() const { return options_; }

    struct Private;
    /// Only create() can call this: Private is its key.
    Definition(const Private&, std::string name, std::vector<Participant> participants, Options options)
        : name_(std::move(name)), participants_(std::move(participants)), options_(std::move(options)) {}

private:
    std::string name_;
    std::vector<Participant> participants_;
    Options options_;
};

/// Where one participant of a transaction is.
enum class ParticipantState : std::uint8_t {
    preparing,       ///< asked to prepare, no vote yet
    prepared,        ///< voted yes, waits for the decision
    refused,         ///< voted no (or timed out), waits for the decision
    committing,      ///< commit sent, no acknowledgement yet
    aborting,        ///< abort sent, no acknowledgement yet
    committed,       ///< acknowledged its commit
    aborted,         ///< acknowledged its abort
    commit_stalled,  ///< its commit keeps failing (still retried)
};

/// The state's name: "preparing", ..., "commit_stalled".
[[nodiscard]] constexpr std::string_view to_string(ParticipantState s) {
    switch (s) {
        case ParticipantState::preparing: return "preparing";
        case ParticipantState::prepared: return "prepared";
        case ParticipantState::refused: return "refused";
        case ParticipantState::committing: return "committing";
        case ParticipantState::aborting: return "aborting";
        case ParticipantState::committed: return "committed";
        case ParticipantState::aborted: return "aborted";
        case ParticipantState::commit_stalled: return "commit_stalled";
    }
    return "unknown";
}

/// A participant of a transaction as observed.
struct TXFLOW_EXPORT ParticipantInfo {
    std::string name;                                      ///< the participant's name
    ParticipantState state = ParticipantState::preparing;  ///< where it is now
    std::string reason;                                    ///< a no vote's why
    std::uint32_t attempts = 0;                            ///< commit or abort attempts started (this process)
    std::string last_error;                                ///< of the last failed commit or abort
};

/// A transaction as observed: state, data and participants (Scheduler::transaction()).
struct TXFLOW_EXPORT Info {
    std::string id;                             ///< the transaction id
    std::string definition;                     ///< the definition's name
    State state = State::preparing;             ///< its state now
    std::string reason;                         ///< why it aborted
    nlohmann::json data;                        ///< its input data
    WallTime created{};                         ///< when it began
    WallTime updated{};                         ///< its last change of state
    std::vector<ParticipantInfo> participants;  ///< its participants, in definition order
    bool stalled = false;                       ///< the store failed under it (as for sagas)
};

}  // namespace atomic

/// Thrown by Atomic::build() for a definition atomic::Definition::create() refuses.
class TXFLOW_EXPORT AtomicDefinitionError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// An atomic transaction definition as the scheduler takes it (Atomic::build() makes one).
using AtomicRef = atomic::DefinitionPtr;

namespace atomic::detail {
template <class... T>
inline constexpr bool always_false = false;
}

class Atomic;

/// A participant with a prepare and a commit: its abort comes next (each state accepts only the next callable).
class TXFLOW_EXPORT AtomicNeedsAbort {
public:
    /// Gives the participant its abort and returns to the builder.
    [[nodiscard]] Atomic abort(atomic::PhaseFunction fn) &&;
    /// Not allowed: fails to compile, asking for the previous participant's abort first.
    template <class... A>
    void participant(A&&...) {
        static_assert(
            atomic::detail::always_false<A...>,
            "txflow::Atomic: the previous participant has no abort; add .abort(fn) before the next participant");
    }
    /// Not allowed: fails to compile, asking for the last participant's abort first.
    template <class... A>
    void build(A&&...) {
        static_assert(atomic::detail::always_false<A...>,
                      "txflow::Atomic: the last participant has no abort; add .abort(fn) before build()");
    }

private:
    friend class AtomicNeedsCommit;
    AtomicNeedsAbort(std::unique_ptr<Atomic> a, atomic::Participant p) : atomic_(std::move(a)), p_(std::move(p)) {}
    std::unique_ptr<Atomic> atomic_;
    atomic::Participant p_;
};

/// A participant with a prepare: its commit comes next.
class TXFLOW_EXPORT AtomicNeedsCommit {
public:
    /// Gives the participant its commit; its abort comes next.
    [[nodiscard]] AtomicNeedsAbort commit(atomic::PhaseFunction fn) && {
        p_.commit = std::move(fn);
        return {std::move(atomic_), std::move(p_)};
    }
    /// Not allowed: fails to compile; the commit comes before the abort.
    template <class... A>
    void abort(A&&...) {
        static_assert(atomic::detail::always_false<A...>,
                      "txflow::Atomic: a participant needs .commit(fn) before .abort(fn)");
    }
    /// Not allowed: fails to compile, asking for the previous participant's commit and abort.
    template <class... A>
    void participant(A&&...) {
        static_assert(atomic::detail::always_false<A...>,
                      "txflow::Atomic: the previous participant has no commit; add .commit(fn) and .abort(fn)");
    }
    /// Not allowed: fails to compile, asking for the last participant's commit and abort.
    template <class... A>
    void build(A&&...) {
        static_assert(
            atomic::detail::always_false<A...>,
            "txflow::Atomic: the last participant has no commit; add .commit(fn) and .abort(fn) before build()");
    }

private:
    friend class AtomicNeedsPrepare;
    AtomicNeedsCommit(std::unique_ptr<Atomic> a, atomic::Participant p) : atomic_(std::move(a)), p_(std::move(p)) {}
    std::unique_ptr<Atomic> atomic_;
    atomic::Participant p_;
};

/// A participant just named: its prepare comes next.
class TXFLOW_EXPORT AtomicNeedsPrepare {
public:
    /// Gives the participant its prepare; its commit comes next.
    [[nodiscard]] AtomicNeedsCommit prepare(atomic::PrepareFunction fn) && {
        p_.prepare = std::move(fn);
        return {std::move(atomic_), std::move(p_)};
    }
    /// Not allowed: fails to compile; the prepare comes first.
    template <class... A>
    void commit(A&&...) {
        static_assert(atomic::detail::always_false<A...>,
                      "txflow::Atomic: a participant needs .prepare(fn) first, then .commit(fn) and .abort(fn)");
    }
    /// Not allowed: fails to compile, asking for the previous participant's prepare, commit and abort.
    template <class... A>
    void participant(A&&...) {
        static_assert(
            atomic::detail::always_false<A...>,
            "txflow::Atomic: the previous participant has no prepare; add .prepare(fn), .commit(fn), .abort(fn)");
    }
    /// Not allowed: fails to compile, asking for the last participant's prepare, commit and abort.
    template <class... A>
    void build(A&&...) {
        static_assert(atomic::detail::always_false<A...>,
                      "txflow::Atomic: the last participant has no prepare; add .prepare(fn), .commit(fn), .abort(fn)");
    }

private:
    friend class Atomic;
    AtomicNeedsPrepare(std::unique_ptr<Atomic> a, std::string name) : atomic_(std::move(a)) {
        p_.name = std::move(name);
    }
    std::unique_ptr<Atomic> atomic_;
    atomic::Participant p_;
};

/// The fluent, compile-time checked builder. Chain it from a temporary.
class TXFLOW_EXPORT Atomic {
public:
    /// Starts a definition called `name`.
    explicit Atomic(std::string name) : name_(std::move(name)) {}

    /// Adds a participant; its prepare, commit and abort follow in that order.
    [[nodiscard]] AtomicNeedsPrepare participant(std::string name) && {
        return {std::make_unique<Atomic>(std::move(*this)), std::move(name)};
    }
    /// How long a prepare may take before it counts as a no.
    [[nodiscard]] Atomic prepare_timeout(std::chrono::milliseconds limit) && {
        options_.prepare_timeout = limit;
        return std::move(*this);
    }
    /// The wait between commit (or abort) attempts (see Options::phase_retry).
    [[nodiscard]] Atomic phase_retry(retry::Policy policy) && {
        options_.phase_retry = std::move(policy);
        return std::move(*this);
    }
    /// When a participant whose commit keeps failing shows as commit_stalled (see Options).
    [[nodiscard]] Atomic stall_after(std::uint32_t attempts,
                                     std::optional<std::chrono::milliseconds> duration = {}) && {
        options_.stall_after_attempts = attempts;
        options_.stall_after = duration;
        return std::move(*this);
    }
    /// Throws AtomicDefinitionError ("atomic 'transfer', participant 'a': ...").
    [[nodiscard]] AtomicRef build() &&;

private:
    friend class AtomicNeedsAbort;
    std::string name_;
    std::vector<atomic::Participant> participants_;
    atomic::Options options_;
};

inline Atomic AtomicNeedsAbort::abort(atomic::PhaseFunction fn) && {
    p_.abort = std::move(fn);
    atomic_->participants_.push_back(std::move(p_));
    return std::move(*atomic_);
}

}  // namespace txflow
