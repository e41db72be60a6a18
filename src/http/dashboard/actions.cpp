// POST /api/v1/jobs/{name}/pause|resume|trigger, /jobs/{name}/runs/{fire}/cancel,
// /dead-letters/{id}/retry,
// /sagas/{id}/retry-compensation and /sagas/{id}/cancel. The body, when
// present, must be a JSON object ({"reason": "..."} for cancel).

#include "internal.hpp"

#include <spdlog/spdlog.h>

namespace txflow::http::dash {
namespace {

json parse_body(const Request& r) {
    if (r.body.empty()) return json::object();
    json body = json::parse(r.body, nullptr, false);
    if (body.is_discarded()) throw BadRequest{400, "the request body is not valid JSON"};
    if (!body.is_object()) throw BadRequest{400, "the request body must be a JSON object"};
    return body;
}

Response done(std::string_view what, std::string_view target) {
    return json_response(json{{"ok", true}, {"action", what}, {"target", target}});
}

// #18: a trigger carrying a W3C `traceparent` header (and `tracestate`) runs as part of the caller's
// trace; an invalid one is ignored, as W3C says (a new trace), with a warning saying why.
bool trigger_traced(Dashboard::Impl& d, JobHandle& handle, const Request& r) {
    const std::string traceparent = r.header("traceparent");
    if (traceparent.empty()) return handle.trigger_now();
    auto parent = observe::TraceContext::parse(traceparent, r.header("tracestate"));
    if (parent) return handle.trigger_now(*parent);
    d.scheduler.logger().warn("trigger of job '{}': ignored the traceparent header: {}", handle.name(), parent.error());
    return handle.trigger_now();
}

Response job_action(Dashboard::Impl& d, const std::string& name, const std::string& verb, const Request& r) {
    auto handle = d.scheduler.find(name);
    if (!handle) return error(404, "no job named '" + name + "'");
    bool ok = false;
    if (verb == "pause") ok = handle->pause();
    else if (verb == "resume") ok = handle->resume();
    else if (verb == "trigger") ok = trigger_traced(d, *handle, r);
    else return error(404, "no job action '" + verb + "' (pause, resume or trigger)");
    if (!ok) return error(409, "job '" + name + "' refused " + verb);
    return done(verb, name);
}

// A run is named by its job and the fire it is for (RunRecord::fire_time, ms).
Response run_cancel(Dashboard::Impl& d, const std::string& name, const std::string& fire_text) {
    if (!d.scheduler.find(name)) return error(404, "no job named '" + name + "'");
    const std::size_t digits = fire_text.starts_with('-') ? 1 : 0;
    if (fire_text.size() <= digits || fire_text.size() - digits > 18 ||
        fire_text.find_first_not_of("0123456789", digits) != std::string::npos)
        return error(400, "run '" + fire_text + "' is not a fire time in milliseconds since the epoch");
    const WallTime fire{std::chrono::milliseconds{std::stoll(fire_text)}};
    if (!d.scheduler.cancel_run(name, fire))
        return error(404, "job '" + name + "' has no queued or running run for the fire " + fire_text);
    return done("cancel", name + "@" + fire_text);
}

Response dead_letter_retry(Dashboard::Impl& d, const std::string& id_text) {
    if (id_text.empty() || id_text.size() > 19 || id_text.find_first_not_of("0123456789") != std::string::npos)
        return error(400, "dead letter id '" + id_text + "' is not a number");
    const std::uint64_t id = std::stoull(id_text);
    if (!d.scheduler.rerun_dead_letter(id)) return error(404, "no dead letter " + id_text + " (or its job is gone)");
    return done("retry", id_text);
}

Response saga_action(Dashboard::Impl& d, const std::string& id, const std::string& verb, const json& body) {
    const std::optional<saga::Info> info = d.scheduler.saga(id);
    if (!info) return error(404, "no saga with id '" + id + "'");
    if (verb == "retry-compensation") {
        if (!d.scheduler.retry_compensation(id))
            return error(
                409, "saga '" + id + "' is " + std::string(saga::to_string(info->state)) + ", not compensation_failed");
        return done(verb, id);
    }
    if (verb == "cancel") {
        const json reason = body.value("reason", json("cancelled from the dashboard"));
        if (!reason.is_string()) return error(400, "\"reason\" must be a string");
        if (!d.scheduler.cancel_saga(id, reason.get<std::string>()))
            return error(
                409, "saga '" + id + "' is " + std::string(saga::to_string(info->state)) + " and cannot be cancelled");
        return done(verb, id);
    }
    return error(404, "no saga action '" + verb + "' (retry-compensation or cancel)");
}

}  // namespace

Response action(Dashboard::Impl& d, const std::vector<std::string>& seg, const Request& r) {
    const json body = parse_body(r);
    if (seg.size() == 3 && seg[0] == "jobs") return job_action(d, seg[1], seg[2], r);
    if (seg.size() == 5 && seg[0] == "jobs" && seg[2] == "runs" && seg[4] == "cancel")
        return run_cancel(d, seg[1], seg[3]);
    if (seg.size() == 3 && seg[0] == "dead-letters" && seg[2] == "retry") return dead_letter_retry(d, seg[1]);
    if (seg.size() == 3 && seg[0] == "sagas") return saga_action(d, seg[1], seg[2], body);
    return error(404, "no such action: POST " + r.path);
}

}  // namespace txflow::http::dash
