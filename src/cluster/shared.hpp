#pragma once
// What the worker's services share: the options (defaults filled in), the
// logger, the table names, the node's identity, the jobs this worker holds
// (each with its fencing token and a stop source for its handler) and the
// counters behind Worker::stats().

#include <spdlog/logger.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/cluster_metrics.hpp"
#include "cluster/queries.hpp"
#include "cluster/stop_flag.hpp"
#include "txflow/cluster/worker.hpp"

namespace txflow::cluster {

struct Counters {
    std::atomic<std::uint64_t> claimed{0}, completed{0}, failed{0}, snoozed{0}, fenced_off{0}, rescued{0}, deleted{0},
        reconnects{0}, wakeups{0};
};

// The jobs this worker holds: claimed and not yet written back. The
// heartbeat extends their leases; a job whose lease could not be extended is
// lost (another node may run it): its handler is asked to stop.
class Holdings {
public:
    void add(const std::vector<store::ClaimedJob>& jobs);
    void remove(std::span<const Held> jobs);
    [[nodiscard]] std::vector<Held> snapshot() const;
    [[nodiscard]] std::stop_token token(std::int64_t id) const;
    [[nodiscard]] std::size_t size() const;
    // Asks the handlers of the jobs in `asked` that are not in `kept` (and
    // are still held under the same attempt) to stop; returns how many.
    std::size_t stop_lost(std::span<const Held> asked, std::span<const std::int64_t> kept);
    void stop_all();

private:
    struct Entry {
        std::int32_t attempt = 0;
        std::stop_source stop;
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, Entry> held_;
};

struct Shared {
    WorkerOptions options;
    std::shared_ptr<spdlog::logger> log;
    Tables tables;
    std::string channel;  // LISTEN channel of the schema (migration 3's trigger)
    std::string name, host;
    int pid = 0;
    std::atomic<std::int64_t> node_id{0};
    Counters counters;
    Holdings holdings;
    StopFlag stop_claims;    // the producer and the notifier
    StopFlag stop_services;  // heartbeat, rescuer, cleaner, completer
    Wake producer_wake;
    std::atomic<bool> maybe_more{false};     // the last claim was full: claim again when a slot frees
    std::unique_ptr<WorkerMetrics> metrics;  // WorkerOptions::metrics; null: none (set before the services start)
};

}  // namespace txflow::cluster
