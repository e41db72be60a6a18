// The validator: sagas and their steps.

#include "checker.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace txflow::schedule_file::detail {
namespace {

const std::vector<std::string_view> kSagaKeys{"name", "description", "steps", "on_recovery", "priority", "queue"};
const std::vector<std::string_view> kStepKeys{"name",    "description", "command", "compensate", "no_compensation",
                                              "timeout", "retry"};

}  // namespace

void Checker::saga(const json& v, const std::string& pointer) {
    if (!object(v, pointer, "a saga object")) return;
    known_keys(v, pointer, kSagaKeys, {{"command", "steps"}, {"compensate", "steps"}});
    SagaSpec saga;
    bool ok = true;
    const auto field = [&](std::string_view key) { return child(pointer, key); };
    if (!named_entry(v, pointer, "saga", saga_pointers_, saga.name)) ok = false;
    if (!saga.name.empty()) saga_names_.insert(saga.name);  // jobs may name it even if it has problems
    if (const json* r = member(v, "on_recovery")) {
        if (auto s = choice(*r, field("on_recovery"), "recovery", {"resume", "compensate"}))
            saga.on_recovery = *s == "compensate" ? OnRecovery::compensate : OnRecovery::resume;
        else ok = false;
    }
    if (const json* p = member(v, "priority")) {
        if (auto pr = priority(*p, field("priority"))) saga.priority = *pr;
        else ok = false;
    }
    if (const json* q = member(v, "queue")) {
        if (auto s = queue(*q, field("queue"))) saga.queue = *s;
        else ok = false;
    }
    if (require(v, pointer, "steps")) {
        const json& steps = v["steps"];
        const std::string sp = field("steps");
        if (!steps.is_array()) {
            add(sp, fmt::format("expected an array of steps, got {}", type_of(steps)));
            ok = false;
        } else if (steps.empty()) {
            add(sp, "a saga needs at least one step");
            ok = false;
        } else if (steps.size() > kMaxSteps) {
            add(sp, fmt::format("{} steps is over the limit of {} per saga", steps.size(), kMaxSteps));
            ok = false;
        } else {
            std::unordered_map<std::string, std::string> step_names;
            for (std::size_t i = 0; i < steps.size(); ++i) {
                auto s = step(steps[i], child(sp, i), step_names);
                if (s) saga.steps.push_back(std::move(*s));
                else ok = false;
            }
        }
    } else {
        ok = false;
    }
    if (ok) out_.sagas.push_back(std::move(saga));
}

std::optional<StepSpec> Checker::step(const json& v, const std::string& pointer,
                                      std::unordered_map<std::string, std::string>& names) {
    if (!object(v, pointer, "a step object")) return std::nullopt;
    known_keys(v, pointer, kStepKeys, {{"argv", "command"}, {"env", "command"}, {"cwd", "command"}});
    StepSpec s;
    bool ok = true;
    const auto field = [&](std::string_view key) { return child(pointer, key); };
    if (!named_entry(v, pointer, "step", names, s.name)) ok = false;
    if (require(v, pointer, "command")) {
        if (auto c = command(v["command"], field("command"))) s.command = std::move(*c);
        else ok = false;
    } else {
        ok = false;
    }
    if (const json* n = member(v, "no_compensation")) {
        if (auto b = boolean(*n, field("no_compensation"))) s.no_compensation = *b;
        else ok = false;
    }
    if (const json* c = member(v, "compensate")) {
        if (s.no_compensation) {
            add(field("no_compensation"), "a step with 'compensate' cannot also say \"no_compensation\": true");
            ok = false;
        }
        s.compensate = command(*c, field("compensate"));
        if (!s.compensate) ok = false;
    } else if (!s.no_compensation && ok) {
        add(pointer, "needs 'compensate' (a command that undoes the step) or \"no_compensation\": true");
        ok = false;
    }
    if (const json* t = member(v, "timeout")) {
        s.timeout = duration(*t, field("timeout"), Sign::positive);
        if (!s.timeout) ok = false;
    }
    if (const json* r = member(v, "retry")) {
        s.retry = retry_spec(*r, field("retry"));
        if (!s.retry) ok = false;
    }
    if (!ok) return std::nullopt;
    return s;
}

}  // namespace txflow::schedule_file::detail
