#pragma once
// `txflow run FILE`: the daemon. Runs a JSON schedule until SIGTERM/SIGINT (or
// --for), reloads it on SIGHUP.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_run_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
