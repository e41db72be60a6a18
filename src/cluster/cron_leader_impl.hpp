#pragma once
// CronLeader's state, shared by cron_leader.cpp (open, add, tick) and
// cron_leader_thread.cpp (start, stop, resign). tick() and everything it
// touches run under tick_mutex; what other threads read (is_leader, epoch)
// is atomic.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_metrics.hpp"
#include "cluster/cron_fires.hpp"
#include "cluster/leader_lease.hpp"
#include "store/pg/connection.hpp"
#include "txflow/cluster/cron_leader.hpp"

namespace txflow::cluster {

using RealSteady = std::chrono::steady_clock;

struct RegisteredSchedule {
    CronSchedule def;
    cron::Schedule schedule;
    // This node's last view of the schedule's decided fires (a lower bound of
    // the database's): no transaction while its next fire lies ahead.
    std::optional<cron::Instant> decided;
};

struct CronLeader::Impl {
    CronLeaderOptions options;
    Clock* clock;
    std::shared_ptr<spdlog::logger> log;
    std::unique_ptr<LeaderMetrics> metrics;  // CronLeaderOptions::metrics; null: none
    LeaderLease lease;
    CronFires fires;

    std::mutex tick_mutex;  // one tick (or resign) at a time; guards everything down to the atomics
    std::vector<RegisteredSchedule> schedules;
    std::optional<store::pg::Connection> conn;
    RealSteady::time_point reconnect_at{};
    std::chrono::milliseconds backoff{0};
    std::string last_connect_error;
    RealSteady::time_point renew_at{};
    std::optional<cron::Instant> next_fire;  // the earliest next fire after the last tick

    std::atomic<bool> leader{false};
    std::atomic<bool> bypass{false};
    std::atomic<std::int64_t> epoch{0};
    // The lease's end as this node can be sure of it: the send time of the
    // statement that set it plus the lease (the database counts from later).
    std::atomic<RealSteady::rep> lease_deadline{0};

    // PQcancel's handle for the connection, so stop() can cut a statement short.
    std::mutex cancel_mutex;
    std::shared_ptr<void> cancel;

    // start()'s thread. lifecycle_mutex serialises start() and stop();
    // wake_mutex guards the flags below and is never held while calling the
    // clock (its callbacks take wake_mutex under the clock's own lock).
    std::mutex lifecycle_mutex;
    std::thread thread;
    std::mutex wake_mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool exited = false;
    bool clock_moved = false;
    std::uint64_t clock_subscription = 0;

    Impl(CronLeaderOptions o, Clock* c);

    store::StoreResult<CronTick> tick();
    store::StoreResult<store::Ok> connect();
    store::StoreResult<store::Ok> step_lease();
    store::StoreResult<CronTick> fire_schedules();
    // A failed statement: a lost connection ends the term at once (and is
    // dropped, reconnect with backoff); other errors end it at the deadline.
    store::StoreError failed(store::StoreError error);
    void take_term(std::int64_t new_epoch, RealSteady::time_point sent);
    void step_down(const char* why);
    void drop_connection();
    [[nodiscard]] bool lease_may_have_lapsed() const;
    void set_deadline(RealSteady::time_point t) { lease_deadline.store(t.time_since_epoch().count()); }
    void run_loop();
};

}  // namespace txflow::cluster
