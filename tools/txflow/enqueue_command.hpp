#pragma once
// `txflow enqueue --store URL KIND ...`: a job into a cluster's queue.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_enqueue_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
