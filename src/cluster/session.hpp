#pragma once
// One service's connection that survives losing it: a statement that fails
// because the connection broke closes it; ensure() opens it again with the
// worker's capped exponential backoff (logged), until it works or the
// worker stops. What the service was doing is its own to retry.

#include <spdlog/logger.h>
#include "txflow/core/export.hpp"

#include <atomic>
#include <chrono>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include "cluster/stop_flag.hpp"
#include "store/pg/connection.hpp"
#include "txflow/cluster/worker.hpp"

namespace txflow::cluster {

class TXFLOW_EXPORT Session {
public:
    Session(std::string role, const WorkerOptions& options, spdlog::logger& log, StopFlag& stop,
            std::atomic<std::uint64_t>& reconnects);

    // The first connection (start(): a down server is an error, not a wait).
    StoreResult<Ok> open();
    // Connected (re-opening with backoff when lost): false when the worker
    // stopped first. `after_connect` runs on each new connection (LISTEN).
    bool ensure();
    // Runs a statement; a broken connection is closed and logged (the next
    // ensure() re-opens it).
    StoreResult<store::pg::Rows> exec(std::string_view what, const std::string& sql,
                                      const store::pg::Params& params = {});
    [[nodiscard]] PGconn* get() const { return conn_ ? conn_->get() : nullptr; }
    [[nodiscard]] const store::pg::Connection* connection() const { return conn_ ? &*conn_ : nullptr; }
    [[nodiscard]] bool connected() const { return conn_.has_value(); }
    // Call after a failure seen outside exec() (reading notifications).
    void lost(const std::string& reason);
    // ensure() stops trying at `deadline` (a stopping worker's last writes).
    void give_up_at(std::chrono::steady_clock::time_point deadline) {
        give_up_at_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
    }
    [[nodiscard]] bool gave_up() const {
        return std::chrono::steady_clock::now().time_since_epoch().count() >
               give_up_at_.load(std::memory_order_relaxed);
    }
    // A new connection since the caller last asked (to LISTEN again).
    bool take_reconnected() { return std::exchange(reconnected_, false); }

private:
    std::string role_;
    const WorkerOptions& options_;
    spdlog::logger& log_;
    StopFlag& stop_;
    std::atomic<std::uint64_t>& reconnects_;
    std::optional<store::pg::Connection> conn_;
    bool reconnected_ = false;
    std::atomic<std::chrono::steady_clock::rep> give_up_at_{std::numeric_limits<std::chrono::steady_clock::rep>::max()};
    std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace txflow::cluster
