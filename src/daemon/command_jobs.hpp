#pragma once
// A schedule file's commands as scheduler jobs and saga steps (private to
// src/daemon): the TXFLOW_* environment, output to the log through the
// output cap, TXFLOW_DATA lines merged into a saga's data within its limit.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "log.hpp"
#include "output_cap.hpp"
#include "txflow/daemon/command.hpp"
#include "txflow/job.hpp"
#include "txflow/saga/atomic.hpp"
#include "txflow/saga/saga.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace spdlog {
class logger;
}

namespace txflow::daemon::detail {

// What a run reads when it starts; a reload swaps in a new one, so unchanged
// jobs see new secrets and output limits too.
struct RunSettings {
    schedule_file::OutputSpec output;
    std::map<std::string, std::string> secrets;  // secret file path -> its value
};

class SharedSettings {
public:
    explicit SharedSettings(RunSettings s) : current_(std::make_shared<const RunSettings>(std::move(s))) {}
    [[nodiscard]] std::shared_ptr<const RunSettings> get() const {
        const std::lock_guard lock(mutex_);
        return current_;
    }
    void set(RunSettings s) {
        auto next = std::make_shared<const RunSettings>(std::move(s));
        const std::lock_guard lock(mutex_);
        current_ = std::move(next);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const RunSettings> current_;
};

struct CommandContext {
    std::shared_ptr<spdlog::logger> log;
    std::chrono::milliseconds kill_grace{5000};
    std::shared_ptr<SharedSettings> settings;
};

using LineSink = std::function<void(Stream, std::string_view)>;
// Runs `command` (its secrets added to run.extra_env) with every output line
// logged under `fields` through the output cap; `also` sees each line too.
CommandResult run_logged(const schedule_file::Command& command, RunOptions& run, const LogFields& fields,
                         const CommandContext& context, LineRate& rate, const LineSink& also = {});

[[nodiscard]] JobFunction command_job(std::string name, schedule_file::Command command, const CommandContext& context);
// A saga step's action or compensation.
[[nodiscard]] saga::StepFunction command_step(std::string saga_name, schedule_file::Command command,
                                              const CommandContext& context);

// A transaction's participant whose prepare, commit and abort are commands
// (command_participant.cpp): prepare votes yes by exiting 0.
[[nodiscard]] atomic::Participant command_participant(std::string transaction,
                                                      const schedule_file::ParticipantSpec& spec,
                                                      const CommandContext& context);

}  // namespace txflow::daemon::detail
