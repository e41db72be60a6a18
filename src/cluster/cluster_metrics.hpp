#pragma once
// The PostgreSQL cluster's figures (WorkerOptions::metrics, CronLeaderOptions::metrics): claim
// latency per queue, lease rescues, and whether this node leads cron. Cells are resolved once,
// when the worker or leader starts; each update is one relaxed atomic operation.

#include <memory>
#include <string>
#include <vector>

#include "txflow/observe/metrics.hpp"

namespace txflow::cluster {

// The cluster::Worker's: one claim statement's round trip per queue, jobs claimed, leases rescued.
class WorkerMetrics {
public:
    WorkerMetrics(observe::Registry& registry, const std::vector<std::string>& queues);
    // The cells of queue number i (WorkerOptions::queues order).
    [[nodiscard]] observe::Histogram& claim_duration(std::size_t i) const { return *claim_duration_[i]; }
    [[nodiscard]] observe::Counter& claimed(std::size_t i) const { return *claimed_[i]; }
    observe::Counter& rescued_requeued;
    observe::Counter& rescued_discarded;

private:
    std::vector<observe::Histogram*> claim_duration_;
    std::vector<observe::Counter*> claimed_;
};

// The CronLeader's: 1 while this node leads the election, and each change of that.
class LeaderMetrics {
public:
    LeaderMetrics(observe::Registry& registry, const std::string& election);
    void leading(bool now) noexcept;

private:
    observe::Gauge& leader_;
    observe::Counter& acquired_;
    observe::Counter& lost_;
};

}  // namespace txflow::cluster
