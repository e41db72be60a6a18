// The daemon's checks of a schedule file before running it (preflight.hpp).

#include "preflight.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "account.hpp"
#include "txflow/daemon/safety.hpp"

namespace txflow::daemon::detail {

std::vector<std::pair<std::string, const schedule_file::Command*>> commands_of(
    const schedule_file::ScheduleFile& file) {
    std::vector<std::pair<std::string, const schedule_file::Command*>> out;
    for (std::size_t i = 0; i < file.sagas.size(); ++i) {
        const auto& steps = file.sagas[i].steps;
        for (std::size_t n = 0; n < steps.size(); ++n) {
            out.emplace_back(fmt::format("/sagas/{}/steps/{}/command", i, n), &steps[n].command);
            if (steps[n].compensate)
                out.emplace_back(fmt::format("/sagas/{}/steps/{}/compensate", i, n), &*steps[n].compensate);
        }
    }
    for (std::size_t i = 0; i < file.jobs.size(); ++i) {
        if (file.jobs[i].command) out.emplace_back(fmt::format("/jobs/{}/command", i), &*file.jobs[i].command);
    }
    return out;
}

Result<std::map<std::string, std::string>, schedule_file::Problems> read_secrets(
    const schedule_file::ScheduleFile& file) {
    std::map<std::string, std::string> secrets;
    std::map<std::string, std::string> refused;  // path -> reason, reported once per command
    schedule_file::Problems problems;
    for (const auto& [pointer, command] : commands_of(file)) {
        for (const auto& [name, path] : command->env_files) {
            if (secrets.count(path) == 0 && refused.count(path) == 0) {
                auto value = read_secret(path);
                if (value) secrets.emplace(path, std::move(*value));
                else refused.emplace(path, std::move(value.error()));
            }
            if (const auto it = refused.find(path); it != refused.end())
                problems.push_back({fmt::format("{}/env/{}", pointer, name), it->second});
        }
    }
    if (!problems.empty()) return unexpected(std::move(problems));
    return secrets;
}

schedule_file::Problems check_accounts(const schedule_file::ScheduleFile& file) {
    schedule_file::Problems problems;
    for (const auto& [pointer, command] : commands_of(file)) {
        if (command->user.empty() && command->group.empty()) continue;
        auto account = resolve_account(command->user, command->group);
        if (!account) {
            const bool group_at_fault = command->user.empty() || account.error().find("group '") != std::string::npos;
            problems.push_back(
                {fmt::format("{}/{}", pointer, group_at_fault ? "group" : "user"), std::move(account.error())});
        }
    }
    return problems;
}

Result<RunSettings, schedule_file::Problems> run_settings(const schedule_file::ScheduleFile& file) {
    schedule_file::Problems problems = check_accounts(file);
    auto secrets = read_secrets(file);
    if (!secrets) problems.insert(problems.end(), secrets.error().begin(), secrets.error().end());
    if (!problems.empty()) return unexpected(std::move(problems));
    return RunSettings{file.output, std::move(*secrets)};
}

std::vector<std::string> root_commands(const schedule_file::ScheduleFile& file) {
    std::vector<std::string> out;
    if (::geteuid() != 0) return out;
    for (const auto& [pointer, command] : commands_of(file)) {
        if (command->user.empty()) out.push_back(pointer);
    }
    return out;
}

}  // namespace txflow::daemon::detail
