#include "cluster/services.hpp"

namespace txflow::cluster {

namespace {
constexpr int kRescueBatch = 1000;
}

Millis Rescuer::tick(Session& session) {
    const auto& o = shared_.options;
    auto counts = rescue_expired(session, shared_.tables, kRescueBatch);
    if (!counts) {
        if (session.connected()) shared_.log->error("txflow cluster rescuer: {}", counts.error().message);
        return *o.rescue_interval;
    }
    const auto n = counts->requeued + counts->discarded;
    if (shared_.metrics) {
        shared_.metrics->rescued_requeued.inc(counts->requeued);
        shared_.metrics->rescued_discarded.inc(counts->discarded);
    }
    if (n > 0) {
        shared_.counters.rescued.fetch_add(n, std::memory_order_relaxed);
        shared_.log->warn("txflow cluster rescuer: {} job(s) with an expired lease: {} back to available, {} discarded",
                          n, counts->requeued, counts->discarded);
    }
    if (auto gone = remove_dead_nodes(session, shared_.tables, *o.node_expiry); gone && *gone > 0) {
        shared_.log->info("txflow cluster rescuer: removed {} node row(s) silent for over {} ms", *gone,
                          o.node_expiry->count());
    }
    return n == static_cast<std::uint64_t>(kRescueBatch) ? Millis(0) : *o.rescue_interval;
}

}  // namespace txflow::cluster
