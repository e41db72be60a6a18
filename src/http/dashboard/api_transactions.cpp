// GET /api/v1/transactions (?state=&name=) and /api/v1/transactions/{id}:
// atomic (two-phase commit) transactions with their participants.

#include <algorithm>

#include "internal.hpp"

namespace txflow::http::dash {
namespace {

// The two-phase-commit phase a participant (or transaction) is in.
std::string_view phase_of(atomic::ParticipantState s) {
    using P = atomic::ParticipantState;
    switch (s) {
        case P::preparing:
        case P::prepared:
        case P::refused: return to_string(atomic::Phase::prepare);
        case P::committing:
        case P::committed:
        case P::commit_stalled: return to_string(atomic::Phase::commit);
        case P::aborting:
        case P::aborted: return to_string(atomic::Phase::abort);
    }
    return "unknown";
}

std::string_view phase_of(atomic::State s) {
    using S = atomic::State;
    if (s == S::preparing) return to_string(atomic::Phase::prepare);
    if (s == S::aborting || s == S::aborted) return to_string(atomic::Phase::abort);
    return to_string(atomic::Phase::commit);
}

json participant_json(const atomic::ParticipantInfo& p) {
    return json{{"name", p.name},
                {"state", atomic::to_string(p.state)},
                {"phase", phase_of(p.state)},
                {"reason", p.reason},
                {"attempts", p.attempts},
                {"last_error", p.last_error}};
}

json summary_json(const atomic::Info& t) {
    std::size_t errors = 0;
    for (const atomic::ParticipantInfo& p : t.participants) errors += p.last_error.empty() ? 0U : 1U;
    return json{{"id", t.id},
                {"definition", t.definition},
                {"state", atomic::to_string(t.state)},
                {"phase", phase_of(t.state)},
                {"reason", t.reason},
                {"created", epoch_ms(t.created)},
                {"updated", epoch_ms(t.updated)},
                {"participants", t.participants.size()},
                {"participants_with_errors", errors},
                {"stalled", t.stalled}};
}

}  // namespace

Response transactions(const Dashboard::Impl& d, const Request& r) {
    std::optional<atomic::State> state;
    if (const std::string text = text_param(r, "state"); !text.empty()) {
        atomic::State parsed{};
        if (!atomic::parse_state(text, parsed))
            throw BadRequest{
                400,
                "?state=" + text + ": expected preparing, committing, aborting, committed, aborted or commit_stalled"};
        state = parsed;
    }
    const std::string name = text_param(r, "name");
    const std::size_t offset = size_param(r, "offset", 100'000'000).value_or(0);
    const std::size_t limit = size_param(r, "limit", 1000).value_or(100);
    std::vector<atomic::Info> all = d.scheduler.transactions(state);
    if (!name.empty()) std::erase_if(all, [&](const atomic::Info& t) { return t.definition != name; });
    std::sort(all.begin(), all.end(), [](const atomic::Info& a, const atomic::Info& b) {
        return a.updated != b.updated ? a.updated > b.updated : a.id < b.id;
    });
    json items = json::array();
    for (std::size_t i = offset; i < all.size() && i < offset + limit; ++i) items.push_back(summary_json(all[i]));
    return json_response(
        json{{"total", all.size()}, {"offset", offset}, {"limit", limit}, {"transactions", std::move(items)}});
}

Response transaction(const Dashboard::Impl& d, const std::string& id) {
    const std::optional<atomic::Info> info = d.scheduler.transaction(id);
    if (!info) return error(404, "no transaction with id '" + id + "'");
    json out = summary_json(*info);
    json participants = json::array();
    for (const atomic::ParticipantInfo& p : info->participants) participants.push_back(participant_json(p));
    out["participants"] = std::move(participants);
    out["data"] = info->data;
    return json_response(out);
}

}  // namespace txflow::http::dash
