#pragma once
// What the daemon checks of a schedule file before it runs it or applies a
// reload (private to src/daemon): every secret file read (with its
// permissions), every user and group known to the system. Problems carry the
// pointer of the command at fault; no problem ever contains a secret.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "command_jobs.hpp"
#include "txflow/result.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::daemon::detail {

// Every command of the file with its pointer ("/jobs/2/command",
// "/sagas/0/steps/1/compensate").
[[nodiscard]] std::vector<std::pair<std::string, const schedule_file::Command*>> commands_of(
    const schedule_file::ScheduleFile& file);

// Secret file path -> value, for every command.
[[nodiscard]] Result<std::map<std::string, std::string>, schedule_file::Problems> read_secrets(
    const schedule_file::ScheduleFile& file);

// Users and groups that exist, secrets read: what a file needs to run.
[[nodiscard]] Result<RunSettings, schedule_file::Problems> run_settings(const schedule_file::ScheduleFile& file);

// Users and groups that do not exist here.
[[nodiscard]] schedule_file::Problems check_accounts(const schedule_file::ScheduleFile& file);

// The pointers of the commands that would run as root (no user) when the
// daemon runs as root; empty otherwise.
[[nodiscard]] std::vector<std::string> root_commands(const schedule_file::ScheduleFile& file);

}  // namespace txflow::daemon::detail
