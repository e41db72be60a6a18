#include "unknown_command.hpp"

#include <CLI/CLI.hpp>

#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "txflow/schedule_file/schedule.hpp"

namespace txflow::tool {

std::optional<std::string> unknown_command(const CLI::App& app, int argc, const char* const* argv) {
    const CLI::App* group = &app;
    std::string path;  // "wal " for a word after `txflow wal`
    for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word.empty() || word.front() == '-') return std::nullopt;
        const auto subcommands = group->get_subcommands([](const CLI::App*) { return true; });
        if (subcommands.empty()) return std::nullopt;  // a command's own arguments
        std::vector<std::string_view> names;
        const CLI::App* match = nullptr;
        for (const CLI::App* sub : subcommands) {
            names.emplace_back(sub->get_name());
            if (sub->check_name(std::string(word))) match = sub;
        }
        if (match == nullptr) {
            const std::string hint = schedule_file::closest_match(word, names);
            return fmt::format("unknown command '{}{}'{}", path, word,
                               hint.empty() ? "" : fmt::format(" (did you mean '{}{}'?)", path, hint));
        }
        path += fmt::format("{} ", word);
        group = match;
    }
    return std::nullopt;
}

}  // namespace txflow::tool
