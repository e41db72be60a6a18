#include <fmt/format.h>

#include <unordered_set>

#include "txflow/saga/saga.hpp"

namespace txflow {
namespace saga {

struct Definition::Private {};

std::string DefinitionError::to_string(std::string_view saga) const {
    if (step.empty()) return fmt::format("saga '{}': {}", saga, message);
    return fmt::format("saga '{}', step '{}': {}", saga, step, message);
}

Result<DefinitionPtr, DefinitionError> Definition::create(std::string name, std::vector<Step> steps, Options options) {
    if (name.empty()) return unexpected(DefinitionError{{}, "the saga has no name"});
    if (steps.empty()) return unexpected(DefinitionError{{}, "the saga has no steps"});
    std::unordered_set<std::string_view> names;
    std::unordered_set<std::uint32_t> closed_groups;
    std::uint32_t open_group = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const Step& s = steps[i];
        const std::string label = s.name.empty() ? fmt::format("#{}", i + 1) : s.name;
        auto fail = [&](std::string message) { return unexpected(DefinitionError{label, std::move(message)}); };
        if (s.name.empty()) return fail("the step has no name");
        if (!names.insert(s.name).second) return fail("the step name is used twice");
        if (!s.action) return fail("the step has no action");
        if (!s.compensation && !s.no_compensation)
            return fail("the step has no compensation: give one, or say no_compensation()");
        if (s.compensation && s.no_compensation) return fail("the step has a compensation and no_compensation()");
        if (s.timeout && s.timeout->count() <= 0) return fail("the timeout must be positive");
        if (s.compensation_timeout && s.compensation_timeout->count() <= 0)
            return fail("the compensation timeout must be positive");
        if (s.no_compensation && (s.compensation_timeout || s.compensation_retry))
            return fail("compensation policies on a step with no_compensation()");
        if (s.group != open_group) {
            if (open_group != 0) closed_groups.insert(open_group);
            if (s.group != 0 && closed_groups.count(s.group) != 0)
                return fail(fmt::format("parallel group {} is split: its steps must be adjacent", s.group));
            open_group = s.group;
        }
    }
    return std::make_shared<const Definition>(Private{}, std::move(name), std::move(steps), std::move(options));
}

std::vector<DefinitionError> Definition::warnings() const {
    std::vector<DefinitionError> out;
    std::optional<std::size_t> pivot;  // the first no_compensation step with a compensable step before it
    bool compensable_before = false;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
        const Step& s = steps_[i];
        const bool beside_pivot = pivot && s.group != 0 && s.group == steps_[*pivot].group;
        if (pivot && !beside_pivot && !s.retry) {
            out.push_back({s.name, fmt::format("follows step '{}', which cannot be undone (no_compensation), and has "
                                               "no retry policy: if it fails, the saga is not compensated past '{}' "
                                               "and waits for an operator",
                                               steps_[*pivot].name, steps_[*pivot].name)});
        }
        if (!pivot && s.no_compensation && compensable_before) pivot = i;
        if (s.has_compensation()) compensable_before = true;
    }
    return out;
}

std::optional<std::size_t> Definition::find_step(std::string_view name) const {
    for (std::size_t i = 0; i < steps_.size(); ++i)
        if (steps_[i].name == name) return i;
    return std::nullopt;
}

}  // namespace saga

saga::Step& Saga::last(std::string_view what) {
    if (steps_.empty()) {
        throw SagaDefinitionError(
            fmt::format("saga '{}': {}() before any step: it applies to the last step added", name_, what));
    }
    return steps_.back();
}

SagaRef Saga::build() && {
    const std::string name = name_;
    auto def = saga::Definition::create(std::move(name_), std::move(steps_), std::move(options_));
    if (!def) throw SagaDefinitionError(def.error().to_string(name));
    return std::move(*def);
}

}  // namespace txflow
