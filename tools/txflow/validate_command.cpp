// `txflow validate FILE`
//
//   valid:   "FILE: ok, N jobs, M sagas" on stdout, exit 0; advice (a step after
//            a pivot without a retry policy) as "warning: <pointer>: <reason>" on stderr
//   invalid: each problem on stderr as "<json pointer>: <reason>", one per
//            line in document order, then "txflow: FILE: N problem(s)"; exit 1
//   unreadable file or bad command line: the reason on stderr, exit 2

#include "validate_command.hpp"

#include "txflow/daemon/daemon.hpp"

#include <CLI/CLI.hpp>

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
// policy, say): "warning: <json pointer>: <reason>" on stderr.
void print_warnings(const schedule_file::ScheduleFile& file, Context& ctx) {
    const auto nothing = [](const schedule_file::Command&) { return saga::StepFunction([](saga::StepContext&) {}); };
    for (std::size_t i = 0; i < file.sagas.size(); ++i) {
        auto def = daemon::saga_definition(file.sagas[i], i, nothing);
        if (!def) continue;  // the loader has checked the same rules
        for (const auto& w : daemon::saga_warnings(**def, file.sagas[i], i))
            ctx.err << "warning: " << w.to_string() << '\n';
    }
}

int run_validate(const std::string& path, Context& ctx) {
    const schedule_file::ScheduleFile file = load_schedule(path, ctx);
    print_warnings(file, ctx);
    ctx.out << path << ": ok, " << file.jobs.size() << " jobs, " << file.sagas.size() << " sagas\n";
    return kExitOk;
}

}  // namespace

void add_validate_commands(CLI::App& app, Context& ctx) {
    auto path = std::make_shared<std::string>();
    CLI::App* validate = app.add_subcommand("validate", "Check a JSON schedule file and report every problem");
    validate->add_option("FILE", *path, "The schedule file (docs/schedule-format.md)")->required();
    validate->footer(
        "Output: \"FILE: ok, N jobs, M sagas\" on stdout when valid; otherwise every problem on stderr,\n"
        "one per line as \"<json pointer>: <reason>\", in document order.\n"
        "Exit status: 0 valid, 1 invalid, 2 unreadable file or bad command line.");
    validate->callback([&ctx, path] { ctx.action = [&ctx, path] { return run_validate(*path, ctx); }; });
}

}  // namespace txflow::tool
