#pragma once
// `txflow jobs FILE`: a schedule file's jobs and their next fires, like
// `systemctl list-timers`, then its sagas.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_jobs_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
