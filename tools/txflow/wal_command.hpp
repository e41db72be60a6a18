#pragma once
// `txflow wal verify|dump`: check and print a WalStore directory without changing it.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_wal_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
