#pragma once
// A schedule file's command job as a cluster::Worker handler (private to
// src/daemon; cluster_member.cpp): the command with TXFLOW_* variables, its
// output logged as the daemon logs it, the job's timeout per attempt, and its
// retry's backoff between failed attempts.

#include <optional>
#include <string>

#include "command_jobs.hpp"
#include "txflow/cluster/worker.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::daemon::detail {

// The fire time of a claimed job: a cron fire's from its unique key
// "cron:<job>:<fire_at>" (also "at:<job>:<time>"), else empty.
[[nodiscard]] std::string fire_time_of(const std::string& job, const std::optional<std::string>& key);

// `job` must have a command.
[[nodiscard]] cluster::Handler cluster_handler(const schedule_file::JobSpec& job, const CommandContext& context,
                                               std::string node);

}  // namespace txflow::daemon::detail
