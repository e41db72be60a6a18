#pragma once
// `txflow db migrate|status`: txflow's schema in a PostgreSQL database.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_db_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
