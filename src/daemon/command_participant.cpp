// A schedule file's transaction participant: prepare, commit and abort as
// commands (command_jobs.hpp). Each gets the transaction's environment:
// TXFLOW_TRANSACTION (the definition), TXFLOW_TRANSACTION_ID (the instance),
// TXFLOW_PARTICIPANT, TXFLOW_PHASE (prepare, commit, abort),
// TXFLOW_IDEMPOTENCY_KEY (<id>/<participant>/<phase>), TXFLOW_ATTEMPT and
// TXFLOW_TRANSACTION_DATA (the data as JSON).

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "command_jobs.hpp"

namespace txflow::daemon::detail {
namespace {

using schedule_file::Command;

struct Phase {
    std::string transaction;
    std::string participant;
    Command command;
    CommandContext context;
    std::shared_ptr<LineRate> rate;

    // Runs the phase's command for `ctx`; its output is logged with the
    // transaction as the saga fields and "<participant>/<phase>" as the step.
    CommandResult run(atomic::Context& ctx) const {
        RunOptions run;
        run.stop = ctx.stop_token();
        run.kill_grace = context.kill_grace;
        const std::string phase(atomic::to_string(ctx.phase()));
        run.extra_env = {
            {"TXFLOW_TRANSACTION", transaction},
            {"TXFLOW_TRANSACTION_ID", std::string(ctx.txn_id())},
            {"TXFLOW_PARTICIPANT", participant},
            {"TXFLOW_PHASE", phase},
            {"TXFLOW_IDEMPOTENCY_KEY", ctx.idempotency_key()},
            {"TXFLOW_ATTEMPT", std::to_string(ctx.attempt())},
            {"TXFLOW_TRANSACTION_DATA", ctx.data().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
        const std::string step = participant + "/" + phase;
        LogFields fields{};
        fields.saga = transaction;
        fields.saga_id = ctx.txn_id();
        fields.step = step;
        return run_logged(command, run, fields, context, *rate);
    }
};

std::shared_ptr<Phase> phase(const std::string& transaction, const std::string& participant, Command command,
                             const CommandContext& context) {
    const auto settings = context.settings->get();
    return std::make_shared<Phase>(
        Phase{transaction, participant, std::move(command), context,
              std::make_shared<LineRate>(settings->output.lines_per_second, settings->output.burst)});
}

}  // namespace

atomic::Participant command_participant(std::string transaction, const schedule_file::ParticipantSpec& spec,
                                        const CommandContext& context) {
    atomic::Participant out;
    out.name = spec.name;
    auto prepare = phase(transaction, spec.name, spec.prepare, context);
    auto commit = phase(transaction, spec.name, spec.commit, context);
    auto abort = phase(transaction, spec.name, spec.abort, context);
    // A prepare that does not exit 0 (or cannot start, or is stopped at the
    // prepare timeout) is a no; its reason is the command's outcome.
    out.prepare = [prepare](atomic::Context& ctx) {
        const CommandResult result = prepare->run(ctx);
        return result.ok() ? atomic::Vote::commit() : atomic::Vote::refuse(result.describe());
    };
    // A commit or abort that fails is called again, with backoff, until it exits 0.
    out.commit = [commit](atomic::Context& ctx) {
        if (const CommandResult result = commit->run(ctx); !result.ok()) throw std::runtime_error(result.describe());
    };
    out.abort = [abort](atomic::Context& ctx) {
        if (const CommandResult result = abort->run(ctx); !result.ok()) throw std::runtime_error(result.describe());
    };
    return out;
}

}  // namespace txflow::daemon::detail
