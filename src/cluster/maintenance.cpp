// The maintenance thread: heartbeat, rescuer and cleaner in turn on one
// connection, each when its time comes. After a reconnect the heartbeat runs
// first: the leases ran on while the connection was down.

#include "cluster/maintenance.hpp"

#include <algorithm>

#include "cluster/services.hpp"

namespace txflow::cluster {

void run_maintenance(Shared& shared, Session& session) {
    using Clock = std::chrono::steady_clock;
    Heartbeat heartbeat(shared);
    Rescuer rescuer(shared);
    Cleaner cleaner(shared);
    const auto start = Clock::now();
    Clock::time_point next_beat = start + *shared.options.heartbeat_interval;
    Clock::time_point next_rescue = start;
    Clock::time_point next_clean = start;
    while (!shared.stop_services.is_set()) {
        if (!session.ensure()) break;
        if (session.take_reconnected()) next_beat = Clock::now();
        if (Clock::now() >= next_beat) next_beat = Clock::now() + heartbeat.tick(session);
        if (!session.connected()) continue;
        if (Clock::now() >= next_rescue) next_rescue = Clock::now() + rescuer.tick(session);
        if (!session.connected()) continue;
        if (Clock::now() >= next_clean) next_clean = Clock::now() + cleaner.tick(session);
        const auto next = std::min({next_beat, next_rescue, next_clean});
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
        if (wait.count() > 0) shared.stop_services.wait_for(wait);
    }
}

}  // namespace txflow::cluster
