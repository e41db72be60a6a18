// CronLeader's own thread (start, stop) and giving the lease up (resign).

#include <algorithm>

#include <spdlog/spdlog.h>

#include "cluster/cron_leader_impl.hpp"

namespace txflow::cluster {

using std::chrono::milliseconds;

namespace {

constexpr milliseconds kShortestWait{5};

}  // namespace

CronLeader::~CronLeader() {
    stop();
}

store::StoreResult<store::Ok> CronLeader::resign() {
    Impl& m = *impl_;
    const std::lock_guard lock(m.tick_mutex);
    if (!m.leader.load() || m.bypass.load() || !m.conn) return store::Ok{};
    auto released = m.lease.release(*m.conn, m.epoch.load());
    m.step_down("resigned");
    if (!released) return unexpected(m.failed(std::move(released.error())));
    return store::Ok{};
}

void CronLeader::start() {
    Impl& m = *impl_;
    const std::lock_guard lifecycle(m.lifecycle_mutex);
    if (m.thread.joinable()) return;
    {
        const std::lock_guard lock(m.wake_mutex);
        m.stopping = false;
        m.exited = false;
    }
    m.clock_subscription = m.clock->subscribe([&m] {
        {
            const std::lock_guard wake_lock(m.wake_mutex);
            m.clock_moved = true;
        }
        m.wake.notify_all();
    });
    m.thread = std::thread([&m] { m.run_loop(); });
}

bool CronLeader::stop(milliseconds timeout) {
    Impl& m = *impl_;
    const std::lock_guard lifecycle(m.lifecycle_mutex);
    bool in_time = true;
    if (m.thread.joinable()) {
        std::unique_lock lock(m.wake_mutex);
        m.stopping = true;
        m.wake.notify_all();
        if (!m.wake.wait_for(lock, timeout, [&] { return m.exited; })) {
            in_time = false;
            // A statement in flight past the deadline: cancel it (the tick then fails and the loop ends).
            const std::lock_guard cancel_lock(m.cancel_mutex);
            char error[256];
            if (m.cancel) (void)PQcancel(static_cast<PGcancel*>(m.cancel.get()), error, sizeof error);
        }
        lock.unlock();
        m.thread.join();
        m.thread = std::thread();
        m.clock->unsubscribe(m.clock_subscription);
    }
    if (auto r = resign(); !r) m.log->warn("cron leader: node {}: {}", m.options.node, r.error().message);
    return in_time;
}

void CronLeader::Impl::run_loop() {
    std::string last_error;
    for (;;) {
        {
            const std::lock_guard lock(wake_mutex);
            if (stopping) break;
            clock_moved = false;
        }
        auto ticked = tick();
        if (!ticked && ticked.error().message != last_error) {
            last_error = ticked.error().message;
            log->warn("cron leader: node {}: {}", options.node, last_error);
        } else if (ticked && !last_error.empty()) {
            last_error.clear();
            log->info("cron leader: node {}: the database answers again", options.node);
        }
        // Until the next fire, the next renewal or reconnect, at most `poll`.
        milliseconds wait = options.poll;
        {
            const std::lock_guard lock(tick_mutex);
            const auto now = RealSteady::now();
            const auto until = [&](RealSteady::time_point t) {
                return std::chrono::duration_cast<milliseconds>(t - now);
            };
            if (leader.load() && !bypass.load()) wait = std::min(wait, until(renew_at));
            if (!conn) wait = std::min(wait, until(reconnect_at));
            if (leader.load() && next_fire && !clock->is_manual())
                wait = std::min(wait, std::chrono::duration_cast<milliseconds>(*next_fire - clock->wall_now()));
        }
        std::unique_lock lock(wake_mutex);
        wake.wait_for(lock, std::max(wait, kShortestWait), [&] { return stopping || clock_moved; });
    }
    const std::lock_guard lock(wake_mutex);
    exited = true;
    wake.notify_all();
}

}  // namespace txflow::cluster
