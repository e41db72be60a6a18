// `txflow sagas DIR` and `txflow status DIR`: what a scheduler would recover
// from a state directory (a schedule file's state_dir), read with
// store::read_state_dir: nothing in DIR changes, a running daemon included.
//
//   txflow sagas DIR
//     One saga instance a line, by id:
//       ID  NAME  STATE  STEPS (done/total: actions completed, undone since
//       or not)  LAST ERROR
//     then the atomic transactions, one a line (when there are any):
//       ID  NAME  STATE (preparing, committing, aborting, committed,
//       aborted)  ACKED (participants that acknowledged/total)  REASON
//     then the dead letters, one a line:
//       dead letter N: JOB fire T, A attempt(s), failed T: ERROR
//   txflow status DIR
//     A summary, one "key: value" line each: dir, snapshot, records, sagas
//     (a count by state), dead letters, then "last fire: JOB T" per job and
//     "retry: JOB attempt N due T" per pending retry.
//   Exit: 0 shown; 1 damaged or unreadable directory; 2 usage.

#include "state_command.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "txflow/cron/zone.hpp"
#include "txflow/store/state_dir.hpp"

namespace txflow::tool {
namespace {

struct StateOptions {
    std::string dir;
};

std::string time_text(WallTime t) {
    if (t == WallTime{}) return "-";
    return cron::to_rfc3339(t, cron::Zone::utc());
}

store::StateDirView read_view(const StateOptions& o) {
    auto view = store::read_state_dir(o.dir);
    if (!view) throw Failure(kExitNoResult, view.error().message);
    return std::move(*view);
}

void print_dead_letters(const store::StateDirView& view, std::ostream& out) {
    for (const auto& d : view.dead_letters) {
        out << fmt::format("dead letter {}: {} fire {}, {} attempt(s), failed {}: {}\n", d.id, d.job,
                           time_text(d.scheduled), d.attempts, time_text(d.failed_at), d.error);
    }
}

int run_sagas(const StateOptions& o, Context& ctx) {
    const store::StateDirView view = read_view(o);
    std::ostream& out = ctx.out;
    if (view.sagas.empty()) out << "no sagas\n";
    else out << fmt::format("{:<40} {:<20} {:<20} {:<6} {}\n", "ID", "NAME", "STATE", "STEPS", "LAST ERROR");
    for (const auto& s : view.sagas) {
        out << fmt::format("{:<40} {:<20} {:<20} {:<6} {}\n", s.id, s.definition, saga::to_string(s.state),
                           fmt::format("{}/{}", s.steps_done, s.steps), s.last_error.empty() ? "-" : s.last_error);
    }
    if (!view.transactions.empty())
        out << fmt::format("{:<40} {:<20} {:<20} {:<6} {}\n", "TRANSACTION", "NAME", "STATE", "ACKED", "REASON");
    for (const auto& t : view.transactions) {
        out << fmt::format("{:<40} {:<20} {:<20} {:<6} {}\n", t.id, t.definition, t.state,
                           fmt::format("{}/{}", t.acked, t.participants), t.reason.empty() ? "-" : t.reason);
    }
    print_dead_letters(view, out);
    return kExitOk;
}

int run_status(const StateOptions& o, Context& ctx) {
    const store::StateDirView view = read_view(o);
    std::ostream& out = ctx.out;
    const store::RecoveryReport& log = view.log;
    out << "dir: " << o.dir << '\n';
    if (log.snapshot_seq) out << fmt::format("snapshot: seq {}\n", *log.snapshot_seq);
    else out << "snapshot: none\n";
    if (log.records > 0) out << fmt::format("records: {}, seq {}..{}\n", log.records, log.first_seq, log.last_seq);
    else out << "records: 0\n";
    if (log.torn_tail) out << "torn tail: the last write was torn (a crash mid-write); left out\n";

    std::map<std::string_view, std::size_t> by_state;
    for (const auto& s : view.sagas) ++by_state[saga::to_string(s.state)];
    std::string sagas = std::to_string(view.sagas.size());
    for (const auto& [state, count] : by_state) sagas += fmt::format(", {} {}", count, state);
    out << "sagas: " << sagas << '\n';
    std::map<std::string_view, std::size_t> txn_states;
    for (const auto& t : view.transactions) ++txn_states[t.state];
    std::string transactions = std::to_string(view.transactions.size());
    for (const auto& [state, count] : txn_states) transactions += fmt::format(", {} {}", count, state);
    out << "transactions: " << transactions << '\n';
    out << "dead letters: " << view.dead_letters.size() << '\n';
    for (const auto& [job, t] : view.last_fire) out << fmt::format("last fire: {} {}\n", job, time_text(t));
    for (const auto& r : view.retries) {
        out << fmt::format("retry: {} attempt {} of the fire at {}, due {}\n", r.job, r.attempt, time_text(r.scheduled),
                           time_text(r.due));
    }
    return kExitOk;
}

void add_state_command(CLI::App& app, Context& ctx, const char* name, const char* description,
                       int (*run)(const StateOptions&, Context&)) {
    auto options = std::make_shared<StateOptions>();
    CLI::App* sub = app.add_subcommand(name, description);
    sub->add_option("DIR", options->dir, "A state directory (a schedule file's state_dir)")
        ->required()
        ->check(CLI::ExistingDirectory);
    sub->footer("Changes nothing in DIR. Exit status: 0 shown, 1 damaged or unreadable directory, 2 usage error.");
    sub->callback([&ctx, options, run] { ctx.action = [&ctx, options, run] { return run(*options, ctx); }; });
}

}  // namespace

void add_state_commands(CLI::App& app, Context& ctx) {
    add_state_command(app, ctx, "sagas", "List a state directory's saga instances and dead letters", run_sagas);
    add_state_command(app, ctx, "status",
                      "Summarize a state directory: log, sagas by state, dead letters, last fires, retries",
                      run_status);
}

}  // namespace txflow::tool
