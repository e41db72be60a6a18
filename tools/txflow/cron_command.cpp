// `txflow cron next` and `txflow cron explain`.
//
//   txflow cron next EXPR [--tz ZONE] [--from TIME] [-n N] [--format F]
//     N fires (default 1), one RFC 3339 instant with offset per line, in the
//     schedule's zone: its CRON_TZ= prefix, else --tz, else UTC.
//   txflow cron explain EXPR [--tz ZONE] [--from TIME] [--format F]
//     The English description, then "Next fires:" and the next 5 fires,
//     each indented by two spaces.
//   --json (both): one JSON object on stdout instead, also when the
//     expression never fires (with "fires": [] and exit 1):
//       {"expression": EXPR, "zone": Z, "from": T, "fires": [T, ...]}
//     and, for explain, "description". A usage error prints no JSON.
//
// Exit codes: 0 fires printed (even fewer than asked: the schedule ran out);
// 1 the expression never fires after --from; 2 bad expression or flag value.

#include "cron_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"

namespace txflow::tool {
namespace {

using cron::Instant;

constexpr int kExplainFires = 5;

struct CronOptions {
    std::string expression;
    std::string tz;
    std::string from;
    std::string format = "auto";
    int count = 1;
    bool json = false;
};

cron::Format to_format(const std::string& name) {
    if (name == "unix") return cron::Format::unix_;
    if (name == "seconds") return cron::Format::seconds;
    if (name == "quartz") return cron::Format::quartz;
    return cron::Format::any;  // "auto"; CLI11 has already rejected anything else
}

// The shared options of `next` and `explain`.
void add_common_options(CLI::App& sub, CronOptions& o) {
    sub.add_option("EXPR", o.expression,
                   "Cron expression (quote it), e.g. \"0 30 2 * * MON-FRI\", \"@daily\", "
                   "\"@every 90s\", \"CRON_TZ=Europe/Berlin 0 9 * * *\"")
        ->required();
    sub.add_option("--tz", o.tz, "IANA time zone to evaluate in (a CRON_TZ= prefix wins); default UTC")
        ->type_name("ZONE");
    sub.add_option("--from", o.from,
                   "Start after this instant, RFC 3339 with Z or an offset, fractions allowed "
                   "(e.g. 2026-03-07T12:00:00.250+05:30); default now")
        ->type_name("TIME");
    sub.add_option("--format", o.format, "Expression format: unix (5 fields), seconds (6), quartz (6-7), auto (5-7)")
        ->check(CLI::IsMember({"unix", "seconds", "quartz", "auto"}))
        ->type_name("FORMAT")
        ->capture_default_str();
    sub.add_flag("--json", o.json, "Print one JSON object (a stable format for scripts: docs/cli.md)");
}

// The schedule in the zone it fires in, and the instant to search from.
struct Prepared {
    cron::Schedule schedule;
    Instant from;
};

Prepared prepare(const CronOptions& o) {
    auto parsed = cron::parse(o.expression, to_format(o.format));
    if (!parsed) throw Failure(kExitUsage, parsed.error().message());

    const cron::Zone* zone = &cron::Zone::utc();
    if (!o.tz.empty()) {
        zone = cron::Zone::find(o.tz);
        if (zone == nullptr) throw Failure(kExitUsage, "--tz: unknown time zone \"" + o.tz + "\"");
    }

    Instant from = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    if (!o.from.empty()) {
        const auto t = cron::parse_rfc3339(o.from);
        if (!t) {
            throw Failure(kExitUsage, "--from: \"" + o.from +
                                          "\" is not an RFC 3339 time (e.g. 2026-03-07T12:00:00Z or "
                                          "2026-03-07T17:30:00.250+05:30)");
        }
        from = *t;
    }
    // in_zone keeps a CRON_TZ= prefix's zone: the prefix beats --tz.
    return {parsed->in_zone(*zone), from};
}

std::vector<Instant> fires(const cron::Schedule& schedule, Instant from, int count) {
    std::vector<Instant> out;
    Instant cursor = from;
    for (int i = 0; i < count; ++i) {
        const auto t = schedule.next(cursor);
        if (!t) break;
        out.push_back(*t);
        cursor = *t;
    }
    return out;
}

[[noreturn]] void never_fires(const Prepared& p) {
    throw Failure(kExitNoResult, "expression never fires after " + cron::to_rfc3339(p.from, p.schedule.zone()));
}

// The --json form of both commands; "description" only for explain.
void print_json(const CronOptions& o, const Prepared& p, const std::vector<Instant>& list,
                const std::string* description, Context& ctx) {
    nlohmann::json out{{"expression", o.expression},
                       {"zone", std::string(p.schedule.zone().name())},
                       {"from", cron::to_rfc3339(p.from, p.schedule.zone())}};
    if (description != nullptr) out["description"] = *description;
    auto& array = out["fires"] = nlohmann::json::array();
    for (const Instant t : list) array.push_back(cron::to_rfc3339(t, p.schedule.zone()));
    ctx.out << out.dump(2) << '\n';
}

int run_next(const CronOptions& o, Context& ctx) {
    const Prepared p = prepare(o);
    const auto list = fires(p.schedule, p.from, o.count);
    if (o.json) print_json(o, p, list, nullptr, ctx);
    if (list.empty()) never_fires(p);
    if (o.json) return kExitOk;
    for (const Instant t : list) ctx.out << cron::to_rfc3339(t, p.schedule.zone()) << '\n';
    return kExitOk;
}

int run_explain(const CronOptions& o, Context& ctx) {
    const Prepared p = prepare(o);
    const auto list = fires(p.schedule, p.from, kExplainFires);
    if (o.json) {
        const std::string description = cron::describe(p.schedule);
        print_json(o, p, list, &description, ctx);
        if (list.empty()) never_fires(p);
        return kExitOk;
    }
    ctx.out << cron::describe(p.schedule) << '\n';
    if (list.empty()) {
        ctx.out << "Next fires: none" << std::endl;
        never_fires(p);
    }
    ctx.out << "Next fires:\n";
    for (const Instant t : list) ctx.out << "  " << cron::to_rfc3339(t, p.schedule.zone()) << '\n';
    return kExitOk;
}

}  // namespace

void add_cron_commands(CLI::App& app, Context& ctx) {
    CLI::App* cron = app.add_subcommand("cron", "Cron expressions: next fire times and plain-English descriptions");
    cron->require_subcommand(1);

    auto next_options = std::make_shared<CronOptions>();
    CLI::App* next = cron->add_subcommand("next", "Print the next fire times, one RFC 3339 instant per line");
    add_common_options(*next, *next_options);
    next->add_option("-n,--count", next_options->count, "How many fires to print")
        ->check(CLI::Range(1, 1'000'000))
        ->type_name("N")
        ->capture_default_str();
    next->footer(
        "Fires are printed in the schedule's zone: its CRON_TZ= prefix, else --tz, else UTC.\n"
        "Exit status: 0 fires printed, 1 the expression never fires, 2 bad expression or option.");
    next->callback(
        [&ctx, next_options] { ctx.action = [&ctx, next_options] { return run_next(*next_options, ctx); }; });

    auto explain_options = std::make_shared<CronOptions>();
    CLI::App* explain = cron->add_subcommand("explain", "Describe an expression in English and show its next 5 fires");
    add_common_options(*explain, *explain_options);
    explain->footer(
        "Output: the description, then \"Next fires:\" and up to 5 instants indented by two spaces.\n"
        "Exit status: 0 ok, 1 the expression never fires, 2 bad expression or option.");
    explain->callback([&ctx, explain_options] {
        ctx.action = [&ctx, explain_options] { return run_explain(*explain_options, ctx); };
    });
}

}  // namespace txflow::tool
