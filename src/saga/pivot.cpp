#include "saga/pivot.hpp"

#include <fmt/format.h>

#include "saga/instance.hpp"

namespace txflow::saga {

namespace {

const Step& step_of(const Instance& in, std::size_t i) {
    return in.def->steps()[i];
}

bool may_have_acted(const StepRun& st) {
    // Outside an attempt, running means one was cut short by a restart or its timeout.
    return st.state == State::succeeded || st.state == State::running;
}

bool is_acted_pivot(const Instance& in, std::size_t i) {
    return step_of(in, i).no_compensation && may_have_acted(in.steps[i]);
}

bool needs_undoing(const Instance& in, std::size_t i) {
    switch (in.steps[i].state) {
        case State::succeeded:
        case State::running:
        case State::compensating:
        case State::compensation_failed: return step_of(in, i).has_compensation();
        default: return false;
    }
}

bool before_or_beside(const Instance& in, std::size_t other, std::size_t pivot) {
    const std::uint32_t group = step_of(in, pivot).group;
    return other < pivot || (group != 0 && step_of(in, other).group == group);
}

bool undoable_before(const Instance& in, std::size_t pivot) {
    for (std::size_t i = 0; i < in.steps.size(); ++i)
        if (i != pivot && before_or_beside(in, i, pivot) && needs_undoing(in, i)) return true;
    return false;
}

std::optional<std::size_t> interrupted_pivot(const Instance& in) {
    for (std::size_t i = 0; i < in.steps.size(); ++i)
        if (step_of(in, i).no_compensation && in.steps[i].state == State::running) return i;
    return std::nullopt;
}

}  // namespace

std::optional<std::size_t> pivot_blocking_compensation(const Instance& in) {
    for (std::size_t i = in.steps.size(); i-- > 0;)
        if (is_acted_pivot(in, i) && undoable_before(in, i)) return i;
    return std::nullopt;
}

std::optional<std::size_t> pivot_forcing_forward(const Instance& in) {
    if (auto pivot = interrupted_pivot(in)) return pivot;
    return pivot_blocking_compensation(in);
}

bool stays_running_when_failed(const Instance& in, std::size_t step) {
    return step_of(in, step).has_compensation() || undoable_before(in, step);
}

std::string not_compensated_past(const Instance& in, std::size_t pivot) {
    return fmt::format(
        "not compensated past step '{}', which cannot be undone (no_compensation) and may have acted: finish the saga "
        "by hand, then resolve_compensation()",
        in.step_names[pivot]);
}

std::string failure_plan(const Instance& in) {
    if (auto pivot = pivot_blocking_compensation(in))
        return "waiting for an operator: " + not_compensated_past(in, *pivot);
    return "compensating";
}

std::string recovery_plan(const Instance& in) {
    switch (in.state) {
        case State::pending: return "starting";
        case State::running:
            if (!in.fail_reason.empty()) return failure_plan(in);
            if (auto pivot = pivot_forcing_forward(in);
                pivot && in.def->options().on_recovery == Recovery::compensate) {
                return fmt::format(
                    "resuming, not compensating: step '{}' cannot be undone (no_compensation) and may have acted, so "
                    "the saga goes forward",
                    in.step_names[*pivot]);
            }
            return "resuming";
        default: return failure_plan(in);
    }
}

}  // namespace txflow::saga
