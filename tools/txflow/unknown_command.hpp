#pragma once
// "txflow: unknown command 'bogus' (did you mean 'jobs'?)" before CLI11
// would say only "A subcommand is required".

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace txflow::tool {

// The message for the first word of argv that should name a subcommand of
// `app` (or of a command group) but names none; nullopt when there is none.
// Stops at the first option, since what follows it may be its value.
[[nodiscard]] std::optional<std::string> unknown_command(const CLI::App& app, int argc, const char* const* argv);

}  // namespace txflow::tool
