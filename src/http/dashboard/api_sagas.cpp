// GET /api/v1/sagas (?state=&name=) and /api/v1/sagas/{id} with its steps.

#include "internal.hpp"

namespace txflow::http::dash {
namespace {

json step_json(const saga::StepInfo& step) {
    return json{{"name", step.name},
                {"state", saga::to_string(step.state)},
                {"attempts", step.attempts},
                {"compensation_attempts", step.compensation_attempts},
                {"started", time_json(step.started)},
                {"finished", time_json(step.finished)},
                {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(step.duration).count()},
                {"error", step.last_error}};
}

json summary_json(const saga::Info& s) {
    return json{{"id", s.id},
                {"definition", s.definition},
                {"state", saga::to_string(s.state)},
                {"error", s.error},
                {"created", epoch_ms(s.created)},
                {"updated", epoch_ms(s.updated)},
                {"steps", s.steps.size()},
                {"stalled", s.stalled}};
}

}  // namespace

Response sagas(const Dashboard::Impl& d, const Request& r) {
    std::optional<saga::State> state;
    if (const std::string text = text_param(r, "state"); !text.empty()) {
        saga::State parsed{};
        if (!saga::parse_state(text, parsed))
            throw BadRequest{400, "?state=" + text +
                                      ": expected pending, running, succeeded, failed, compensating, compensated or "
                                      "compensation_failed"};
        state = parsed;
    }
    const std::string name = text_param(r, "name");
    const std::size_t offset = size_param(r, "offset", 100'000'000).value_or(0);
    const std::size_t limit = size_param(r, "limit", 1000).value_or(100);
    std::vector<saga::Info> all = d.scheduler.sagas(state);
    if (!name.empty()) std::erase_if(all, [&](const saga::Info& s) { return s.definition != name; });
    std::sort(all.begin(), all.end(), [](const saga::Info& a, const saga::Info& b) {
        return a.updated != b.updated ? a.updated > b.updated : a.id < b.id;
    });
    json items = json::array();
    for (std::size_t i = offset; i < all.size() && i < offset + limit; ++i) items.push_back(summary_json(all[i]));
    return json_response(
        json{{"total", all.size()}, {"offset", offset}, {"limit", limit}, {"sagas", std::move(items)}});
}

Response saga(const Dashboard::Impl& d, const std::string& id) {
    const std::optional<saga::Info> info = d.scheduler.saga(id);
    if (!info) return error(404, "no saga with id '" + id + "'");
    json out = summary_json(*info);
    json steps = json::array();
    for (const saga::StepInfo& step : info->steps) steps.push_back(step_json(step));
    out["steps"] = std::move(steps);
    out["data"] = info->data;
    out["resolution"] = info->resolution;
    return json_response(out);
}

}  // namespace txflow::http::dash
