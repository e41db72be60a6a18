// The cluster's metric families (docs/observability.md, "PostgreSQL cluster").

#include "cluster/cluster_metrics.hpp"

namespace txflow::cluster {

namespace {

observe::Family<observe::Counter>& rescues(observe::Registry& r) {
    return r.counter("txflow_cluster_lease_rescues_total",
                     "Jobs whose lease expired (a dead or stalled node's), put back to available or discarded by this "
                     "node's rescuer",
                     {"outcome"});
}

}  // namespace

WorkerMetrics::WorkerMetrics(observe::Registry& registry, const std::vector<std::string>& queues)
    : rescued_requeued(rescues(registry).with({"requeued"})), rescued_discarded(rescues(registry).with({"discarded"})) {
    auto& duration = registry.histogram("txflow_cluster_claim_duration_seconds",
                                        "One claim statement (UPDATE ... FOR UPDATE SKIP LOCKED), round trip included",
                                        {"queue"}, observe::buckets::latencies());
    auto& claimed = registry.counter("txflow_cluster_claimed_jobs_total", "Jobs this worker claimed", {"queue"});
    for (const auto& q : queues) {
        claim_duration_.push_back(&duration.with({q}));
        claimed_.push_back(&claimed.with({q}));
    }
}

LeaderMetrics::LeaderMetrics(observe::Registry& registry, const std::string& election)
    : leader_(
          registry.gauge("txflow_cluster_leader", "1 while this node holds the cron leader lease, else 0", {"election"})
              .with({election})),
      acquired_(registry
                    .counter("txflow_cluster_leader_changes_total",
                             "This node's leadership changes: acquired or lost (resigned, lapsed, taken over)",
                             {"election", "change"})
                    .with({election, "acquired"})),
      lost_(registry
                .counter("txflow_cluster_leader_changes_total",
                         "This node's leadership changes: acquired or lost (resigned, lapsed, taken over)",
                         {"election", "change"})
                .with({election, "lost"})) {
    leader_.set(0);
}

void LeaderMetrics::leading(bool now) noexcept {
    leader_.set(now ? 1 : 0);
    (now ? acquired_ : lost_).inc();
}

}  // namespace txflow::cluster
