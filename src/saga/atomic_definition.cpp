#include <fmt/format.h>

#include <unordered_set>

#include "txflow/saga/atomic.hpp"

namespace txflow {
namespace atomic {

struct Definition::Private {};

std::string DefinitionError::to_string(std::string_view name) const {
    if (participant.empty()) return fmt::format("atomic '{}': {}", name, message);
    return fmt::format("atomic '{}', participant '{}': {}", name, participant, message);
}

Result<DefinitionPtr, DefinitionError> Definition::create(std::string name, std::vector<Participant> participants,
                                                          Options options) {
    if (name.empty()) return unexpected(DefinitionError{{}, "the transaction has no name"});
    if (participants.empty()) return unexpected(DefinitionError{{}, "the transaction has no participants"});
    if (options.prepare_timeout.count() <= 0)
        return unexpected(DefinitionError{{}, "prepare_timeout must be positive"});
    if (options.stall_after_attempts == 0)
        return unexpected(DefinitionError{{}, "stall_after_attempts must be at least 1"});
    if (options.stall_after && options.stall_after->count() <= 0)
        return unexpected(DefinitionError{{}, "stall_after must be positive"});
    std::unordered_set<std::string_view> names;
    for (std::size_t i = 0; i < participants.size(); ++i) {
        const Participant& p = participants[i];
        const std::string label = p.name.empty() ? fmt::format("#{}", i + 1) : p.name;
        auto fail = [&](std::string message) { return unexpected(DefinitionError{label, std::move(message)}); };
        if (p.name.empty()) return fail("the participant has no name");
        if (p.name.find('/') != std::string::npos)
            return fail("a participant name may not contain '/' (idempotency keys use it)");
        if (!names.insert(p.name).second) return fail("the participant name is used twice");
        if (!p.prepare) return fail("the participant has no prepare");
        if (!p.commit) return fail("the participant has no commit");
        if (!p.abort) return fail("the participant has no abort");
    }
    return std::make_shared<const Definition>(Private{}, std::move(name), std::move(participants), std::move(options));
}

}  // namespace atomic

AtomicRef Atomic::build() && {
    const std::string name = name_;
    auto def = atomic::Definition::create(std::move(name_), std::move(participants_), std::move(options_));
    if (!def) throw AtomicDefinitionError(def.error().to_string(name));
    return std::move(*def);
}

}  // namespace txflow
