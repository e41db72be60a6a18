#pragma once

#include "cluster/session.hpp"
#include "cluster/shared.hpp"

namespace txflow::cluster {

// Runs heartbeat, rescuer and cleaner until shared.stop_services is set.
void run_maintenance(Shared& shared, Session& session);

}  // namespace txflow::cluster
