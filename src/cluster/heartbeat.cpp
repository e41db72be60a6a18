#include "cluster/services.hpp"

namespace txflow::cluster {

Millis Heartbeat::tick(Session& session) {
    const auto& o = shared_.options;
    const auto interval = *o.heartbeat_interval;
    const auto held = shared_.holdings.snapshot();
    const auto node = shared_.node_id.load();
    auto beat = heartbeat(session, shared_.tables, node, o.lease, held);
    if (!beat) {
        if (session.connected()) shared_.log->error("txflow cluster heartbeat: {}", beat.error().message);
        // Sooner than usual: the leases are running out meanwhile.
        return interval / 4;
    }
    if (!beat->node_found) {
        // A rescuer thought this node dead (it stalled past node_expiry): it is not.
        shared_.log->warn("txflow cluster heartbeat: node row {} was gone; registering it again", node);
        if (auto r = restore_node(session, shared_.tables, node, shared_.name, shared_.host, shared_.pid); !r) {
            shared_.log->error("txflow cluster heartbeat: {}", r.error().message);
        }
    }
    if (const auto lost = shared_.holdings.stop_lost(held, beat->extended); lost > 0) {
        shared_.log->warn(
            "txflow cluster heartbeat: lost {} job(s) (lease expired and taken over); their handlers "
            "are asked to stop",
            lost);
    }
    return interval;
}

}  // namespace txflow::cluster
