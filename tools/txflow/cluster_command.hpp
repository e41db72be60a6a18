#pragma once
// `txflow cluster status --store URL`: the shared state of a cluster.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_cluster_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
