// A schedule file's commands as jobs and saga steps (command_jobs.hpp).

#include "command_jobs.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "log.hpp"
#include "output_cap.hpp"
#include "schedule_file/json_dom.hpp"
#include "txflow/daemon/command.hpp"

namespace txflow::daemon::detail {
namespace {

using schedule_file::Command;
using schedule_file::kMaxSagaDataBytes;
using spdlog::level::level_enum;

// The command's secrets as read at start or the last reload (a TXFLOW_*
// variable of the same name wins). A secret that was not read fails the run.
void add_secrets(const Command& command, const RunSettings& settings, RunOptions& run) {
    for (const auto& [name, path] : command.env_files) {
        const auto it = settings.secrets.find(path);
        if (it == settings.secrets.end())
            throw std::runtime_error(fmt::format("secret file {} for {} was not read", path, name));
        run.extra_env.emplace(name, it->second);
    }
}

// The attempt's span, for a command that continues the trace (W3C's environment-variable carrier:
// TRACEPARENT, TRACESTATE); nothing when tracing is off.
void add_trace_env(const observe::TraceContext* trace, RunOptions& run) {
    if (trace == nullptr) return;
    run.extra_env["TRACEPARENT"] = trace->traceparent();
    if (!trace->tracestate.empty()) run.extra_env["TRACESTATE"] = trace->tracestate;
}

std::size_t json_size(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
}

}  // namespace

CommandResult run_logged(const Command& command, RunOptions& run, const LogFields& fields,
                         const CommandContext& context, LineRate& rate, const LineSink& also) {
    const auto settings = context.settings->get();
    rate.set(settings->output.lines_per_second, settings->output.burst);
    add_secrets(command, *settings, run);
    LogFields out = fields;
    out.stream = "stdout";
    LogFields err = fields;
    err.stream = "stderr";
    LogFields note = fields;
    note.stream = {};
    spdlog::logger& log = *context.log;
    OutputCap cap(settings->output, rate, [&](Stream s, std::string_view line) {
        log_with(log, level_enum::info, s == Stream::out ? out : err, line);
    });
    run.on_line = [&](Stream s, std::string_view line) {
        cap.line(s, line);
        if (also) also(s, line);
    };
    CommandResult result = run_command(command, run);
    cap.finish([&](std::string_view text) { log_with(log, level_enum::warn, note, text); });
    return result;
}

JobFunction command_job(std::string name, Command command, const CommandContext& context) {
    auto rate = std::make_shared<LineRate>(context.settings->get()->output.lines_per_second,
                                           context.settings->get()->output.burst);
    return [name = std::move(name), command = std::move(command), context, rate](JobContext& ctx) {
        RunOptions run;
        run.stop = ctx.stop_token();
        run.kill_grace = context.kill_grace;
        run.extra_env = {{"TXFLOW_JOB", name},
                         {"TXFLOW_FIRE_TIME", cron::to_rfc3339(ctx.scheduled_time(), cron::Zone::utc())},
                         {"TXFLOW_RUN", std::to_string(ctx.run_number())},
                         {"TXFLOW_ATTEMPT", std::to_string(ctx.attempt())}};
        add_trace_env(ctx.trace(), run);
        LogFields fields{};
        fields.job = name;
        const CommandResult result = run_logged(command, run, fields, context, *rate);
        if (!result.ok()) throw std::runtime_error(result.describe());
    };
}

saga::StepFunction command_step(std::string saga_name, Command command, const CommandContext& context) {
    auto rate = std::make_shared<LineRate>(context.settings->get()->output.lines_per_second,
                                           context.settings->get()->output.burst);
    return [saga_name = std::move(saga_name), command = std::move(command), context, rate](saga::StepContext& ctx) {
        RunOptions run;
        run.stop = ctx.stop_token();
        run.kill_grace = context.kill_grace;
        run.extra_env = {
            {"TXFLOW_SAGA", saga_name},
            {"TXFLOW_SAGA_ID", std::string(ctx.saga_id())},
            {"TXFLOW_STEP", std::string(ctx.step_name())},
            {"TXFLOW_IDEMPOTENCY_KEY", std::string(ctx.idempotency_key())},
            {"TXFLOW_ATTEMPT", std::to_string(ctx.attempt())},
            {"TXFLOW_SAGA_DATA", ctx.data().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
            {"TXFLOW_COMPENSATING", ctx.compensating() ? "1" : "0"}};
        if (ctx.compensating()) run.extra_env["TXFLOW_SAGA_ERROR"] = std::string(ctx.saga_error());
        add_trace_env(ctx.trace(), run);
        // A TXFLOW_DATA line is never longer than the data it may carry: a
        // longer one arrives cut at max_line, and is refused as too long.
        run.max_line = kMaxSagaDataBytes;
        LogFields fields{};
        fields.saga = saga_name;
        fields.saga_id = ctx.saga_id();
        fields.step = ctx.step_name();
        fields.compensating = ctx.compensating();
        LogFields note = fields;
        spdlog::logger& log = *context.log;
        nlohmann::json written = nlohmann::json::object();
        std::string data_error;
        constexpr std::string_view kDataPrefix = "TXFLOW_DATA ";
        const CommandResult result =
            run_logged(command, run, fields, context, *rate, [&](Stream s, std::string_view line) {
                if (s != Stream::out || line.substr(0, kDataPrefix.size()) != kDataPrefix) return;
                if (line.size() >= run.max_line) {
                    data_error = fmt::format("a TXFLOW_DATA line is limited to {} bytes", kMaxSagaDataBytes - 1);
                    return;
                }
                auto data = schedule_file::detail::parse_json(line.substr(kDataPrefix.size()));
                if (!data) {
                    log_with(log, level_enum::warn, note, fmt::format("ignored a TXFLOW_DATA line: {}", data.error()));
                    return;
                }
                if (!data->is_object()) {
                    log_with(log, level_enum::warn, note, "ignored a TXFLOW_DATA line: not a JSON object");
                    return;
                }
                written.update(*data);
            });
        if (!result.ok()) throw std::runtime_error(result.describe());
        if (!data_error.empty()) throw std::runtime_error(data_error);
        if (written.empty()) return;
        nlohmann::json merged = ctx.data();
        merged.update(written);
        if (const std::size_t size = json_size(merged); size > kMaxSagaDataBytes) {
            throw std::runtime_error(fmt::format(
                "the saga's data would be {} bytes as JSON with this step's TXFLOW_DATA, over the {} KiB limit", size,
                kMaxSagaDataBytes >> 10U));
        }
        ctx.data() = std::move(merged);
    };
}

}  // namespace txflow::daemon::detail
