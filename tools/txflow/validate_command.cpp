// `txflow validate FILE`
//
//   valid:   "FILE: ok, N jobs, M sagas" on stdout, exit 0; advice (a step after
//            a pivot without a retry policy) as "warning: <pointer>: <reason>" on stderr
//   invalid: each problem on stderr as "<json pointer>: <reason>", one per
//            line in document order, then "txflow: FILE: N problem(s)"; exit 1
//   unreadable file or bad command line: the reason on stderr, exit 2
//   --json: one object on stdout whatever the outcome (same exit codes):
//     {"file": F, "valid": bool, "jobs": N, "sagas": M,
//      "problems": [{"pointer": P, "reason": R}, ...], "warnings": [...]}
//     (jobs and sagas only when valid; an unreadable file is one problem
//     with pointer ""). A bad command line prints no JSON.

#include "validate_command.hpp"

#include "txflow/daemon/daemon.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

namespace txflow::tool {

schedule_file::ScheduleFile load_schedule(const std::string& path, Context& ctx) {
    auto text = schedule_file::read_text_file(path);
    if (!text) throw Failure(kExitUsage, text.error());
    const std::filesystem::path p(path);
    auto file = schedule_file::parse_text(*text, p.has_parent_path() ? p.parent_path() : std::filesystem::path{});
    if (!file) {
        ctx.out.flush();
        for (const auto& problem : file.error()) ctx.err << problem.to_string() << '\n';
        const std::size_t n = file.error().size();
        throw Failure(kExitNoResult, path + ": " + std::to_string(n) + (n == 1 ? " problem" : " problems"));
    }
    file->path = p;
    return std::move(*file);
}

namespace {

// Advice that leaves the file valid (a step after a pivot with no retry
// policy, say).
schedule_file::Problems warnings_of(const schedule_file::ScheduleFile& file) {
    const auto nothing = [](const schedule_file::Command&) { return saga::StepFunction([](saga::StepContext&) {}); };
    schedule_file::Problems out;
    for (std::size_t i = 0; i < file.sagas.size(); ++i) {
        auto def = daemon::saga_definition(file.sagas[i], i, nothing);
        if (!def) continue;  // the loader has checked the same rules
        for (auto& w : daemon::saga_warnings(**def, file.sagas[i], i)) out.push_back(std::move(w));
    }
    return out;
}

nlohmann::json to_json(const schedule_file::Problems& problems) {
    auto out = nlohmann::json::array();
    for (const auto& p : problems) out.push_back({{"pointer", p.pointer}, {"reason", p.reason}});
    return out;
}

int run_validate_json(const std::string& path, Context& ctx) {
    nlohmann::json out{{"file", path}, {"valid", false}};
    int code = kExitOk;
    if (auto text = schedule_file::read_text_file(path); !text) {
        out["problems"] = to_json({{"", text.error()}});
        code = kExitUsage;
    } else {
        const std::filesystem::path p(path);
        auto file = schedule_file::parse_text(*text, p.has_parent_path() ? p.parent_path() : std::filesystem::path{});
        if (!file) {
            out["problems"] = to_json(file.error());
            code = kExitNoResult;
        } else {
            out["valid"] = true;
            out["jobs"] = file->jobs.size();
            out["sagas"] = file->sagas.size();
            out["problems"] = nlohmann::json::array();
            out["warnings"] = to_json(warnings_of(*file));
        }
    }
    if (!out.contains("warnings")) out["warnings"] = nlohmann::json::array();
    ctx.out << out.dump(2) << '\n';
    return code;
}

int run_validate(const std::string& path, bool json, Context& ctx) {
    if (json) return run_validate_json(path, ctx);
    const schedule_file::ScheduleFile file = load_schedule(path, ctx);
    for (const auto& w : warnings_of(file)) ctx.err << "warning: " << w.to_string() << '\n';
    ctx.out << path << ": ok, " << file.jobs.size() << " jobs, " << file.sagas.size() << " sagas\n";
    return kExitOk;
}

}  // namespace

void add_validate_commands(CLI::App& app, Context& ctx) {
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* validate = app.add_subcommand("validate", "Check a JSON schedule file and report every problem");
    validate->add_option("FILE", *path, "The schedule file (docs/schedule-format.md)")->required();
    validate->add_flag("--json", *json, "Print one JSON object with every problem and its JSON pointer (docs/cli.md)");
    validate->footer(
        "Output: \"FILE: ok, N jobs, M sagas\" on stdout when valid; otherwise every problem on stderr,\n"
        "one per line as \"<json pointer>: <reason>\", in document order.\n"
        "Exit status: 0 valid, 1 invalid, 2 unreadable file or bad command line.");
    validate->callback(
        [&ctx, path, json] { ctx.action = [&ctx, path, json] { return run_validate(*path, *json, ctx); }; });
}

}  // namespace txflow::tool
