#pragma once
// `txflow sagas DIR` and `txflow status DIR`: a read-only look at a state directory.

#include "command.hpp"

namespace CLI {
class App;
}

namespace txflow::tool {

void add_state_commands(CLI::App& app, Context& ctx);

}  // namespace txflow::tool
