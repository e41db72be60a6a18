#pragma once
// `txflow cron next|explain`: fires and English descriptions of cron expressions.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_cron_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
