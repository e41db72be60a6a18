#pragma once
/// @file
/// The saga state machines: one for a saga instance, one for each of its steps,
/// over the same seven states. Every change of state goes through transition(),
/// which refuses what the tables below do not list.
///
///     saga:  pending -> running -> succeeded
///                       running -> failed -> compensating -> compensated
///                                            compensating -> compensation_failed
///            compensation_failed -> compensating   (an operator retries)
///            compensation_failed -> compensated    (an operator marks it resolved)
///
///     step:  pending -> running -> succeeded -> compensating -> compensated
///                       running -> failed        compensating -> compensation_failed
///                       running -> compensating  (an attempt cut short by a crash or by its
///                                                 timeout may have acted: with Recovery::compensate,
///                                                 or when the step's later attempts fail too)
///            compensation_failed -> compensating | compensated   (as for the saga)
///
/// A saga goes through `failed` on its way to compensating even when nothing
/// needs undoing, so the log always says why compensation began. A step that
/// failed is not compensated (it did not complete); a step marked
/// no_compensation() stays succeeded.

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

namespace txflow::saga {

/// The seven states a saga or a step can be in (see the machines in the file's notes).
enum class State : std::uint8_t {
    pending,
    running,
    succeeded,
    failed,
    compensating,
    compensated,
    compensation_failed,
};
/// The number of States.
inline constexpr std::size_t kStateCount = 7;

/// Which state machine a transition is checked against: a saga's or a step's.
enum class Machine : std::uint8_t { saga, step };

/// A change of state: (from, to).
using Transition = std::pair<State, State>;

/// Every change of state a saga may make.
inline constexpr std::array<Transition, 8> kSagaTransitions{{
    {State::pending, State::running},
    {State::running, State::succeeded},
    {State::running, State::failed},
    {State::failed, State::compensating},
    {State::compensating, State::compensated},
    {State::compensating, State::compensation_failed},
    {State::compensation_failed, State::compensating},
    {State::compensation_failed, State::compensated},
}};

/// Every change of state a step may make.
inline constexpr std::array<Transition, 9> kStepTransitions{{
    {State::pending, State::running},
    {State::running, State::compensating},  // recovery: the step may have acted before the crash
    {State::running, State::succeeded},
    {State::running, State::failed},
    {State::succeeded, State::compensating},
    {State::compensating, State::compensated},
    {State::compensating, State::compensation_failed},
    {State::compensation_failed, State::compensating},
    {State::compensation_failed, State::compensated},
}};

/// Whether `machine` allows from -> to.
[[nodiscard]] constexpr bool is_legal(Machine machine, State from, State to) {
    if (machine == Machine::saga) {
        for (const auto& [f, t] : kSagaTransitions)
            if (f == from && t == to) return true;
        return false;
    }
    for (const auto& [f, t] : kStepTransitions)
        if (f == from && t == to) return true;
    return false;
}

/// The one gate every change of state goes through: applies `to` and returns
/// true if the machine's table allows from -> to; otherwise leaves `state` as
/// it is and returns false.
[[nodiscard]] constexpr bool transition(Machine machine, State& state, State to) {
    if (!is_legal(machine, state, to)) return false;
    state = to;
    return true;
}

/// Finished for good: nothing will run for it again.
[[nodiscard]] constexpr bool is_terminal(State s) {
    return s == State::succeeded || s == State::compensated;
}

/// The state's name: "pending", ..., "compensation_failed".
[[nodiscard]] constexpr std::string_view to_string(State s) {
    switch (s) {
        case State::pending: return "pending";
        case State::running: return "running";
        case State::succeeded: return "succeeded";
        case State::failed: return "failed";
        case State::compensating: return "compensating";
        case State::compensated: return "compensated";
        case State::compensation_failed: return "compensation_failed";
    }
    return "unknown";
}

/// Sets `out` to the state named `text` (as to_string() writes it); false for an unknown name.
[[nodiscard]] constexpr bool parse_state(std::string_view text, State& out) {
    for (std::size_t i = 0; i < kStateCount; ++i) {
        const auto s = static_cast<State>(i);
        if (to_string(s) == text) {
            out = s;
            return true;
        }
    }
    return false;
}

}  // namespace txflow::saga
