// The `txflow` command-line tool. Each command group lives in its own
// <group>_command.cpp and registers itself here (see command.hpp).
//
// Exit codes: 0 success (and --help, --version); 1 nothing to report;
// 2 usage errors of any kind: CLI11's own parse errors (which it would exit
// with 105-115) are folded into 2.

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cluster_command.hpp"
#include "command.hpp"
#include "cron_command.hpp"
#include "db_command.hpp"
#include "enqueue_command.hpp"
#include "jobs_command.hpp"
#include "run_command.hpp"
#include "state_command.hpp"
#include "unknown_command.hpp"
#include "validate_command.hpp"
#include "wal_command.hpp"

#ifndef TXFLOW_VERSION
#define TXFLOW_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
    using namespace txflow::tool;

    CLI::App app{"txflow: cron schedules, jobs and sagas from the command line", "txflow"};
    app.set_version_flag("--version", "txflow " TXFLOW_VERSION, "Print the version and exit");
    app.require_subcommand(1);
    app.footer(
        "Exit status: 0 ok, 1 nothing to report (e.g. an expression that never fires), an invalid schedule "
        "file or a damaged state directory, 2 usage error (an unknown command too).");

    Context ctx{std::cout, std::cerr, {}};
    add_cron_commands(app, ctx);
    add_wal_commands(app, ctx);
    add_validate_commands(app, ctx);
    add_run_commands(app, ctx);
    add_jobs_commands(app, ctx);
    add_state_commands(app, ctx);
    add_db_commands(app, ctx);
    add_enqueue_commands(app, ctx);
    add_cluster_commands(app, ctx);

    if (const auto unknown = unknown_command(app, argc, argv)) {
        std::cerr << "txflow: " << *unknown << "\nRun with --help for the commands.\n";
        return kExitUsage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
        std::cerr << "txflow: " << e.what() << "\nRun with --help for more information.\n";
        return kExitUsage;
    }

    try {
        return ctx.action ? ctx.action() : kExitOk;
    } catch (const Failure& f) {
        std::cout.flush();
        std::cerr << "txflow: " << f.what() << '\n';
        return f.code();
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "txflow: internal error: " << e.what() << '\n';
        return 3;
    }
}
