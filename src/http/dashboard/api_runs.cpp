// GET /api/v1/runs: recent runs of every job, for the timeline.

#include "internal.hpp"

namespace txflow::http::dash {

json run_json(const RunRecord& run) {
    return json{{"job", run.job},
                {"fire_time", epoch_ms(run.fire_time)},
                {"started", epoch_ms(run.started)},
                {"attempt", run.attempt},
                {"duration_ms", run.duration.count()},
                {"lateness_ms", run.lateness.count()},
                {"outcome", run.outcome == Outcome::none ? std::string_view("running") : to_string(run.outcome)},
                {"error", run.error},
                {"trace_id", run.trace_id.empty() ? json(nullptr) : json(run.trace_id)},
                {"span_id", run.span_id.empty() ? json(nullptr) : json(run.span_id)}};
}

Response runs(const Dashboard::Impl& d, const Request& r) {
    // ?minutes= how far back (default 10, at most a day); ?job= one job only.
    const std::size_t minutes = size_param(r, "minutes", 24 * 60).value_or(10);
    const std::string only = text_param(r, "job");
    const WallTime now = d.scheduler.clock().wall_now();
    const WallTime since = now - std::chrono::minutes(minutes);
    json items = json::array();
    for (const RunRecord& run : d.history->recent(since))
        if (only.empty() || run.job == only) items.push_back(run_json(run));
    return json_response(json{{"now", epoch_ms(now)}, {"since", epoch_ms(since)}, {"runs", std::move(items)}});
}

}  // namespace txflow::http::dash
