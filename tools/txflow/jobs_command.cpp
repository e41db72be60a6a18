// `txflow jobs FILE [--count N] [--from TIME]`
//
// A table of the file's jobs, soonest first, like `systemctl list-timers`:
//
//   NEXT                       LEFT      SCHEDULE                ZONE           JOB
//   2026-03-07T12:00:02Z       2s        cron */2 * * * * *      UTC            tick
//   2026-03-08T03:00:00+01:00  14h 59min cron 0 0 3 * * *        Europe/Berlin  backup
//   n/a                        n/a       at 2020-01-01T00:00:00Z UTC            once
//
//   3 jobs listed.
//
// NEXT is RFC 3339 in the job's zone (cron jobs: their zone or CRON_TZ=
// prefix; every and at: UTC); `every` jobs count from --from, as the daemon
// counts from its start. With --count N each job gets N rows (the extra ones
// show only NEXT and LEFT). The sagas follow: name and steps.
// Exit status: 0 listed, 1 invalid file (problems on stderr), 2 usage.
//
// --json: one object instead, the jobs in the same order:
//   {"file": F, "from": T, "jobs": [{"name", "schedule", "zone", "next": [T, ...]}],
//    "sagas": [{"name", "on_recovery", "steps": [names]}]}

#include "jobs_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "txflow/cron/zone.hpp"
#include "txflow/schedule_file/schedule.hpp"
#include "validate_command.hpp"

namespace txflow::tool {
namespace {

struct JobsOptions {
    std::string path;
    int count = 1;
    std::string from;
    bool json = false;
};

struct Entry {
    const schedule_file::JobSpec* job;
    std::vector<cron::Instant> fires;
};

std::string zone_name_of(const cron::Zone& zone) {
    return std::string(zone.is_utc() ? std::string_view("UTC") : zone.name());
}

std::string_view on_recovery_text(schedule_file::OnRecovery r) {
    return r == schedule_file::OnRecovery::resume ? "resume" : "compensate";
}

void print_json(const JobsOptions& o, cron::Instant from, const schedule_file::ScheduleFile& file,
                const std::vector<Entry>& entries, Context& ctx) {
    nlohmann::json out{{"file", o.path}, {"from", cron::to_rfc3339(from, cron::Zone::utc())}};
    auto& jobs = out["jobs"] = nlohmann::json::array();
    for (const auto& e : entries) {
        const cron::Zone& zone = e.job->display_zone();
        auto next = nlohmann::json::array();
        for (const auto t : e.fires) next.push_back(cron::to_rfc3339(t, zone));
        jobs.push_back({{"name", e.job->name},
                        {"schedule", e.job->schedule_text()},
                        {"zone", zone_name_of(zone)},
                        {"next", std::move(next)}});
    }
    auto& sagas = out["sagas"] = nlohmann::json::array();
    for (const auto& saga : file.sagas) {
        auto steps = nlohmann::json::array();
        for (const auto& step : saga.steps) steps.push_back(step.name);
        sagas.push_back(
            {{"name", saga.name}, {"on_recovery", on_recovery_text(saga.on_recovery)}, {"steps", std::move(steps)}});
    }
    ctx.out << out.dump(2) << '\n';
}

// "4min 10s", "1h 30min", "2d 3h", "59s", "250ms": the two largest units, as systemd does.
std::string left_text(std::chrono::milliseconds d) {
    using std::chrono::milliseconds;
    std::int64_t ms = d.count();
    if (ms < 1000) return std::to_string(ms) + "ms";
    std::int64_t s = ms / 1000;
    const std::int64_t days = s / 86'400;
    const std::int64_t hours = s / 3600 % 24;
    const std::int64_t minutes = s / 60 % 60;
    const std::int64_t seconds = s % 60;
    const auto two = [](std::int64_t a, const char* ua, std::int64_t b, const char* ub) {
        std::string out = std::to_string(a) + ua;
        if (b != 0) out += ' ' + std::to_string(b) + ub;
        return out;
    };
    if (days > 0) return two(days, "d", hours, "h");
    if (hours > 0) return two(hours, "h", minutes, "min");
    if (minutes > 0) return two(minutes, "min", seconds, "s");
    return std::to_string(seconds) + "s";
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        if (width.size() < row.size()) width.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out << line << '\n';
    }
}

int run_jobs(const JobsOptions& o, Context& ctx) {
    // Now, in whole seconds: `every` fires and LEFT read better without milliseconds.
    cron::Instant from = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (!o.from.empty()) {
        const auto t = cron::parse_rfc3339(o.from);
        if (!t)
            throw Failure(kExitUsage, "--from: \"" + o.from + "\" is not an RFC 3339 time (e.g. 2026-03-07T12:00:00Z)");
        from = *t;
    }
    const schedule_file::ScheduleFile file = load_schedule(o.path, ctx);

    std::vector<Entry> entries;
    entries.reserve(file.jobs.size());
    for (const auto& job : file.jobs)
        entries.push_back({&job, job.next_fires(from, static_cast<std::size_t>(o.count))});
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.fires.empty() != b.fires.empty()) return b.fires.empty();
        if (!a.fires.empty() && a.fires.front() != b.fires.front()) return a.fires.front() < b.fires.front();
        return a.job->name < b.job->name;
    });

    if (o.json) {
        print_json(o, from, file, entries, ctx);
        return kExitOk;
    }
    std::vector<std::vector<std::string>> rows{{"NEXT", "LEFT", "SCHEDULE", "ZONE", "JOB"}};
    for (const auto& e : entries) {
        const cron::Zone& zone = e.job->display_zone();
        const std::string zone_name = zone_name_of(zone);
        if (e.fires.empty()) {
            rows.push_back({"n/a", "n/a", e.job->schedule_text(), zone_name, e.job->name});
            continue;
        }
        for (std::size_t i = 0; i < e.fires.size(); ++i) {
            std::vector<std::string> row{cron::to_rfc3339(e.fires[i], zone), left_text(e.fires[i] - from)};
            if (i == 0) {
                row.push_back(e.job->schedule_text());
                row.push_back(zone_name);
                row.push_back(e.job->name);
            }
            rows.push_back(std::move(row));
        }
    }
    print_table(ctx.out, rows);
    ctx.out << '\n' << file.jobs.size() << (file.jobs.size() == 1 ? " job" : " jobs") << " listed.\n";

    if (!file.sagas.empty()) {
        std::vector<std::vector<std::string>> sagas{{"SAGA", "ON RECOVERY", "STEPS"}};
        for (const auto& s : file.sagas) {
            std::string steps;
            for (const auto& step : s.steps) {
                if (!steps.empty()) steps += " -> ";
                steps += step.name;
            }
            sagas.push_back({s.name, std::string(on_recovery_text(s.on_recovery)), steps});
        }
        ctx.out << '\n';
        print_table(ctx.out, sagas);
        ctx.out << '\n' << file.sagas.size() << (file.sagas.size() == 1 ? " saga" : " sagas") << " listed.\n";
    }
    return kExitOk;
}

}  // namespace

void add_jobs_commands(CLI::App& app, Context& ctx) {
    auto options = std::make_shared<JobsOptions>();
    CLI::App* jobs = app.add_subcommand("jobs", "List a schedule file's jobs with their next fires, then its sagas");
    jobs->add_option("FILE", options->path, "The schedule file (docs/schedule-format.md)")->required();
    jobs->add_option("-n,--count", options->count, "Fires to show per job")
        ->check(CLI::Range(1, 1000))
        ->type_name("N")
        ->capture_default_str();
    jobs->add_option("--from", options->from, "List fires after this RFC 3339 instant instead of now")
        ->type_name("TIME");
    jobs->add_flag("--json", options->json, "Print one JSON object (a stable format for scripts: docs/cli.md)");
    jobs->footer(
        "Columns: NEXT (RFC 3339 in the job's zone), LEFT (time until then), SCHEDULE, ZONE, JOB; soonest first.\n"
        "Exit status: 0 listed, 1 invalid file (every problem on stderr), 2 unreadable file or bad command line.");
    jobs->callback([&ctx, options] { ctx.action = [&ctx, options] { return run_jobs(*options, ctx); }; });
}

}  // namespace txflow::tool
