// The validator: atomic transactions and their participants.

#include "checker.hpp"

#include <string>

#include <fmt/format.h>

namespace txflow::schedule_file::detail {
namespace {

const std::vector<std::string_view> kTransactionKeys{"name", "description", "participants", "prepare_timeout",
                                                     "stall_after"};
const std::vector<std::string_view> kParticipantKeys{"name", "description", "prepare", "commit", "abort"};
constexpr std::int64_t kMaxStallAfter = 1'000'000;

}  // namespace

void Checker::transaction(const json& v, const std::string& pointer) {
    if (!object(v, pointer, "a transaction object")) return;
    known_keys(v, pointer, kTransactionKeys,
               {{"prepare", "participants"}, {"commit", "participants"}, {"abort", "participants"}});
    TransactionSpec txn;
    bool ok = true;
    const auto field = [&](std::string_view key) { return child(pointer, key); };
    if (!named_entry(v, pointer, "transaction", transaction_pointers_, txn.name)) ok = false;
    if (!txn.name.empty()) transaction_names_.insert(txn.name);  // jobs may name it even if it has problems
    if (const json* t = member(v, "prepare_timeout")) {
        txn.prepare_timeout = duration(*t, field("prepare_timeout"), Sign::positive);
        if (!txn.prepare_timeout) ok = false;
    }
    if (const json* s = member(v, "stall_after")) {
        if (auto n = integer(*s, field("stall_after"), 1, kMaxStallAfter))
            txn.stall_after = static_cast<std::uint32_t>(*n);
        else ok = false;
    }
    if (require(v, pointer, "participants")) {
        const json& participants = v["participants"];
        const std::string pp = field("participants");
        if (!participants.is_array()) {
            add(pp, fmt::format("expected an array of participants, got {}", type_of(participants)));
            ok = false;
        } else if (participants.empty()) {
            add(pp, "a transaction needs at least one participant");
            ok = false;
        } else if (participants.size() > kMaxParticipants) {
            add(pp, fmt::format("{} participants is over the limit of {} per transaction", participants.size(),
                                kMaxParticipants));
            ok = false;
        } else {
            std::unordered_map<std::string, std::string> names;
            for (std::size_t i = 0; i < participants.size(); ++i) {
                auto p = participant(participants[i], child(pp, i), names);
                if (p) txn.participants.push_back(std::move(*p));
                else ok = false;
            }
        }
    } else {
        ok = false;
    }
    if (ok) out_.transactions.push_back(std::move(txn));
}

std::optional<ParticipantSpec> Checker::participant(const json& v, const std::string& pointer,
                                                    std::unordered_map<std::string, std::string>& names) {
    if (!object(v, pointer, "a participant object")) return std::nullopt;
    known_keys(v, pointer, kParticipantKeys,
               {{"argv", "prepare"}, {"compensate", "abort"}, {"command", "prepare"}, {"rollback", "abort"}});
    ParticipantSpec p;
    bool ok = true;
    if (!named_entry(v, pointer, "participant", names, p.name)) ok = false;
    if (p.name.find('/') != std::string::npos) {
        add(child(pointer, "name"), "must not contain '/': it separates the parts of an idempotency key");
        ok = false;
    }
    // All three: a participant that cannot be committed or aborted cannot take part.
    const std::pair<std::string_view, Command*> phases[] = {
        {"prepare", &p.prepare}, {"commit", &p.commit}, {"abort", &p.abort}};
    for (const auto& [key, out] : phases) {
        if (!v.contains(key)) {
            add(pointer, fmt::format("needs '{}' (a command): a participant has prepare, commit and abort", key));
            ok = false;
            continue;
        }
        if (auto c = command(v[key], child(pointer, key))) *out = std::move(*c);
        else ok = false;
    }
    if (!ok) return std::nullopt;
    return p;
}

}  // namespace txflow::schedule_file::detail
