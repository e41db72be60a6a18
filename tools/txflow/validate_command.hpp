#pragma once
// `txflow validate FILE`: checks a JSON schedule file and reports every problem.

#include <string>

#include "command.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_validate_commands(CLI::App& app, Context& ctx);

// Shared by validate, run and jobs: the loaded file, or a Failure. A file
// that cannot be read is a usage error (exit 2); an invalid one prints each
// problem on ctx.err ("<json pointer>: <reason>", one per line) and fails
// with exit 1 and "FILE: N problem(s)".
[[nodiscard]] schedule_file::ScheduleFile load_schedule(const std::string& path, Context& ctx);

}  // namespace txflow::tool
