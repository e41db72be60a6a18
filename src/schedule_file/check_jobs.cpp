// The validator: jobs (trigger, zone, what runs).

#include "checker.hpp"

#include "txflow/observe/trace.hpp"

#include <date/tz.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace txflow::schedule_file::detail {
namespace {

const std::vector<std::string_view> kJobKeys{
    "name",    "description", "cron",    "every", "at",          "zone",  "priority",    "queue",       "jitter",
    "misfire", "policies",    "command", "saga",  "transaction", "input", "preemptible", "traceparent", "tracestate"};

}  // namespace

const cron::Zone* Checker::zone(const std::string& name, const std::string& pointer) {
    if (const cron::Zone* z = cron::Zone::find(name)) return z;
    std::string hint_text;
    try {
        std::vector<std::string_view> names;
        const auto& db = date::get_tzdb();
        for (const auto& z : db.zones) names.push_back(z.name());
        if (const std::string match = closest_match(name, names); !match.empty())
            hint_text = fmt::format(" (did you mean \"{}\"?)", match);
    } catch (const std::exception&) {
        // no database: no hint
    }
    add(pointer, fmt::format("unknown time zone \"{}\"{}", name, hint_text));
    return nullptr;
}

// "traceparent" (W3C, checked strictly) and "tracestate": the trace every run of the job continues.
bool Checker::trace_parent(const json& v, const std::string& pointer, JobSpec& job) {
    const json* tp = member(v, "traceparent");
    const json* ts = member(v, "tracestate");
    std::optional<std::string> state;
    if (ts != nullptr) {
        state = text(*ts, pointer + "/tracestate");
        if (!state) return false;
        if (tp == nullptr) {
            add(pointer + "/tracestate", "needs a \"traceparent\" beside it");
            return false;
        }
    }
    if (tp == nullptr) return true;
    auto parent_text = text(*tp, pointer + "/traceparent");
    if (!parent_text) return false;
    if (auto parsed = observe::TraceContext::parse(*parent_text, state.value_or("")); !parsed) {
        add(pointer + "/traceparent", parsed.error());
        return false;
    }
    job.traceparent = *parent_text;
    job.tracestate = state.value_or("");
    return true;
}

void Checker::job(const json& v, const std::string& pointer) {
    if (!object(v, pointer, "a job object")) return;
    known_keys(v, pointer, kJobKeys,
               {{"timeout", "policies"},
                {"retry", "policies"},
                {"overlap", "policies"},
                {"breaker", "policies"},
                {"argv", "command"},
                {"env", "command"},
                {"cwd", "command"},
                {"steps", "sagas"}});
    JobSpec job;
    bool ok = true;
    const auto field = [&](std::string_view key) { return child(pointer, key); };

    if (!named_entry(v, pointer, "job", job_names_, job.name)) ok = false;

    // Exactly one trigger.
    std::vector<std::string_view> triggers;
    for (const std::string_view k : {"cron", "every", "at"})
        if (v.contains(k)) triggers.push_back(k);
    if (triggers.empty()) {
        add(pointer, "missing a trigger: one of 'cron', 'every' or 'at'");
        ok = false;
    } else if (triggers.size() > 1) {
        add(pointer, fmt::format("has both '{}' and '{}': a job has exactly one trigger", triggers[0], triggers[1]));
        ok = false;
    }
    const cron::Zone* job_zone = nullptr;
    if (const json* z = member(v, "zone")) {
        if (auto s = text(*z, field("zone"))) {
            job.zone = *s;
            job_zone = zone(*s, field("zone"));
            if (job_zone == nullptr) ok = false;
            if (!v.contains("cron") && !triggers.empty()) {
                add(field("zone"),
                    "applies to 'cron' jobs only ('every' counts from the start, 'at' has an "
                    "offset)");
                ok = false;
            }
        } else {
            ok = false;
        }
    }
    if (const json* c = member(v, "cron")) {
        job.trigger = TriggerKind::cron;
        if (auto s = text(*c, field("cron"))) {
            job.cron = *s;
            auto parsed = cron::parse(*s);
            if (!parsed) {
                add(field("cron"), parsed.error().message());
                ok = false;
            } else {
                job.schedule = job_zone != nullptr ? parsed->in_zone(*job_zone) : *parsed;
            }
        } else {
            ok = false;
        }
    }
    if (const json* e = member(v, "every")) {
        job.trigger = TriggerKind::every;
        if (auto d = duration(*e, field("every"), Sign::positive)) job.every = *d;
        else ok = false;
    }
    if (const json* a = member(v, "at")) {
        job.trigger = TriggerKind::at;
        if (auto s = text(*a, field("at"))) {
            if (auto t = cron::parse_rfc3339(*s)) {
                job.at = *t;
            } else {
                add(field("at"), fmt::format("\"{}\" is not an RFC 3339 time (e.g. 2026-03-07T12:00:00Z or "
                                             "2026-03-07T13:00:00+01:00)",
                                             *s));
                ok = false;
            }
        } else {
            ok = false;
        }
    }
    if (const json* p = member(v, "priority")) {
        if (auto pr = priority(*p, field("priority"))) job.priority = *pr;
        else ok = false;
    }
    if (const json* q = member(v, "queue")) {
        if (auto s = queue(*q, field("queue"))) job.queue = *s;
        else ok = false;
    }
    if (const json* p = member(v, "preemptible")) {
        if (auto b = boolean(*p, field("preemptible"))) job.preemptible = *b;
        else ok = false;
    }
    if (const json* j = member(v, "jitter")) {
        if (auto d = duration(*j, field("jitter"), Sign::non_negative)) job.jitter = *d;
        else ok = false;
    }
    if (!trace_parent(v, pointer, job)) ok = false;
    if (const json* m = member(v, "misfire")) {
        job.misfire = misfire(*m, field("misfire"));
        if (!job.misfire) ok = false;
    }
    if (const json* p = member(v, "policies")) {
        const std::size_t before = problems.size();
        policies(*p, field("policies"), job);
        if (problems.size() != before) ok = false;
    }

    // Exactly one of command / saga / transaction.
    std::vector<std::string_view> runs;
    for (const std::string_view k : {"command", "saga", "transaction"})
        if (v.contains(k)) runs.push_back(k);
    if (runs.empty()) {
        add(pointer, "missing 'command', 'saga' or 'transaction': what the job runs");
        ok = false;
    } else if (runs.size() > 1) {
        add(pointer, runs.size() == 2 ? fmt::format("has both '{}' and '{}': a job runs one of them", runs[0], runs[1])
                                      : std::string("has 'command', 'saga' and 'transaction': a job runs one of them"));
        ok = false;
    }
    if (v.contains("command")) {
        job.command = command(v["command"], field("command"));
        if (!job.command) ok = false;
    }
    const auto reference = [&](std::string_view key, std::string& name, auto& refs) {
        if (!v.contains(key)) return;
        if (auto s = text(v[key], field(key))) {
            name = *s;
            refs.emplace_back(field(key), *s);
        } else {
            ok = false;
        }
    };
    reference("saga", job.saga, saga_refs_);
    reference("transaction", job.transaction, transaction_refs_);
    if (const json* in = member(v, "input")) {
        if (!v.contains("saga") && !v.contains("transaction")) {
            add(field("input"), "applies to 'saga' and 'transaction' jobs only (it is their input data)");
            ok = false;
        } else if (!in->is_object()) {
            add(field("input"), fmt::format("expected an object, got {}", type_of(*in)));
            ok = false;
        } else if (const std::size_t size = in->dump(-1, ' ', false, json::error_handler_t::replace).size();
                   size > kMaxSagaDataBytes) {
            add(field("input"), fmt::format("{} bytes as compact JSON is over the {} KiB a saga's data may have", size,
                                            kMaxSagaDataBytes >> 10U));
            ok = false;
        } else {
            job.input = *in;
        }
    }
    if (ok) out_.jobs.push_back(std::move(job));
}

}  // namespace txflow::schedule_file::detail
