// The schedule-file model: derived views (schedule text, fires) and the
// canonical form that SIGHUP reloads compare.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "to_library.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::schedule_file {
namespace {

using nlohmann::json;

json to_json(const Command& c) {
    // Secret files by path only: their contents never enter the model.
    return json{{"argv", c.argv},
                {"env", c.env},
                {"env_files", c.env_files},
                {"cwd", c.cwd},
                {"inherit_env", c.inherit_env},
                {"env_allow", c.env_allow},
                {"user", c.user},
                {"group", c.group}};
}

json to_json(const RetrySpec& r) {
    json out{{"attempts", r.attempts},
             {"backoff", r.backoff == retry::Backoff::fixed ? "fixed" : "exponential"},
             {"initial", r.initial.count()},
             {"jitter", retry::to_string(r.jitter)}};
    if (r.backoff == retry::Backoff::exponential) {
        out["multiplier"] = r.multiplier;
        out["max"] = r.max.count();
    }
    if (r.max_elapsed) out["max_elapsed"] = r.max_elapsed->count();
    return out;
}

json to_json(const BreakerSpec& b) {
    const BreakerSettings& o = b.options;
    return json{{"name", b.name},
                {"window", o.window},
                {"min_calls", o.min_calls},
                {"failure_rate", o.failure_rate},
                {"slow_call", o.slow_call.count()},
                {"slow_percentile", o.slow_percentile},
                {"open_for", o.open_for.count()},
                {"half_open_probes", o.half_open_probes}};
}

std::string_view to_string(MisfireSpec::Mode m) {
    switch (m) {
        case MisfireSpec::Mode::fire_once: return "fire_once";
        case MisfireSpec::Mode::skip: return "skip";
        case MisfireSpec::Mode::fire_all: return "fire_all";
    }
    return "fire_once";
}

}  // namespace

std::string_view to_string(Priority p) {
    switch (p) {
        case Priority::low: return "low";
        case Priority::normal: return "normal";
        case Priority::high: return "high";
        case Priority::critical: return "critical";
    }
    return "normal";
}

std::string_view to_string(Overlap o) {
    switch (o) {
        case Overlap::allow: return "allow";
        case Overlap::skip: return "skip";
        case Overlap::delay: return "delay";
    }
    return "allow";
}

retry::Policy to_policy(const RetrySpec& r) {
    retry::Policy p = r.backoff == retry::Backoff::fixed ? retry::fixed(r.initial)
                                                         : retry::exponential(r.initial, r.multiplier, r.max);
    p.attempts(r.attempts).jitter(r.jitter);
    if (r.max_elapsed) p.max_elapsed(*r.max_elapsed);
    return p;
}

std::string JobSpec::schedule_text() const {
    switch (trigger) {
        case TriggerKind::cron: return "cron " + cron;
        case TriggerKind::every: return "every " + format_duration(every);
        case TriggerKind::at: return "at " + cron::to_rfc3339(at, cron::Zone::utc());
    }
    return {};
}

const cron::Zone& JobSpec::display_zone() const {
    return schedule ? schedule->zone() : cron::Zone::utc();
}

std::vector<cron::Instant> JobSpec::next_fires(cron::Instant from, std::size_t count) const {
    std::vector<cron::Instant> out;
    switch (trigger) {
        case TriggerKind::cron: {
            if (!schedule) break;
            cron::Instant cursor = from;
            while (out.size() < count) {
                const auto t = schedule->next(cursor);
                if (!t) break;
                out.push_back(*t);
                cursor = *t;
            }
            break;
        }
        case TriggerKind::every:
            if (every.count() <= 0) break;
            for (std::size_t i = 1; i <= count; ++i) out.push_back(from + every * static_cast<std::int64_t>(i));
            break;
        case TriggerKind::at:
            if (at > from && count > 0) out.push_back(at);
            break;
    }
    return out;
}

const SagaSpec* ScheduleFile::find_saga(std::string_view name) const {
    for (const auto& s : sagas)
        if (s.name == name) return &s;
    return nullptr;
}

const TransactionSpec* ScheduleFile::find_transaction(std::string_view name) const {
    for (const auto& t : transactions)
        if (t.name == name) return &t;
    return nullptr;
}

const JobSpec* ScheduleFile::find_job(std::string_view name) const {
    for (const auto& j : jobs)
        if (j.name == name) return &j;
    return nullptr;
}

nlohmann::json ScheduleFile::canonical(const SagaSpec& saga) const {
    json steps = json::array();
    for (const auto& s : saga.steps) {
        json step{{"name", s.name}, {"command", to_json(s.command)}, {"no_compensation", s.no_compensation}};
        if (s.compensate) step["compensate"] = to_json(*s.compensate);
        if (s.timeout) step["timeout"] = s.timeout->count();
        if (s.retry) step["retry"] = to_json(*s.retry);
        steps.push_back(std::move(step));
    }
    return json{{"name", saga.name},
                {"steps", std::move(steps)},
                {"on_recovery", saga.on_recovery == OnRecovery::resume ? "resume" : "compensate"},
                {"priority", to_string(saga.priority)},
                {"queue", saga.queue}};
}

nlohmann::json ScheduleFile::canonical(const TransactionSpec& transaction) const {
    json participants = json::array();
    for (const auto& p : transaction.participants) {
        participants.push_back(json{{"name", p.name},
                                    {"prepare", to_json(p.prepare)},
                                    {"commit", to_json(p.commit)},
                                    {"abort", to_json(p.abort)}});
    }
    json out{{"name", transaction.name}, {"participants", std::move(participants)}};
    if (transaction.prepare_timeout) out["prepare_timeout"] = transaction.prepare_timeout->count();
    if (transaction.stall_after) out["stall_after"] = *transaction.stall_after;
    return out;
}

nlohmann::json ScheduleFile::canonical(const JobSpec& job) const {
    json out{{"name", job.name},
             {"priority", to_string(job.priority)},
             {"queue", job.queue},
             {"jitter", job.jitter.count()},
             {"overlap", to_string(job.overlap)}};
    switch (job.trigger) {
        case TriggerKind::cron:
            out["cron"] = job.cron;
            out["zone"] = job.zone;
            break;
        case TriggerKind::every: out["every"] = job.every.count(); break;
        case TriggerKind::at: out["at"] = job.at.time_since_epoch().count(); break;
    }
    if (job.preemptible) out["preemptible"] = true;  // only when set: older canonical forms stay as they were
    if (!job.traceparent.empty()) out["traceparent"] = job.traceparent;
    if (!job.tracestate.empty()) out["tracestate"] = job.tracestate;
    if (job.misfire) out["misfire"] = {{"mode", to_string(job.misfire->mode)}, {"cap", job.misfire->cap}};
    if (job.timeout) out["timeout"] = job.timeout->count();
    if (job.retry) out["retry"] = to_json(*job.retry);
    if (job.breaker) out["breaker"] = to_json(*job.breaker);
    if (job.command) out["command"] = to_json(*job.command);
    if (!job.saga.empty()) {
        out["saga"] = job.saga;
        out["input"] = job.input;
        if (const SagaSpec* s = find_saga(job.saga)) out["saga_definition"] = canonical(*s);
    }
    if (!job.transaction.empty()) {
        out["transaction"] = job.transaction;
        out["input"] = job.input;
        if (const TransactionSpec* t = find_transaction(job.transaction)) out["transaction_definition"] = canonical(*t);
    }
    return out;
}

}  // namespace txflow::schedule_file
