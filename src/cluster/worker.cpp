// cluster::Worker: checks its options, connects every service (a down server
// is an error at start), registers the node, and runs the services until
// stop(): producer, pool, completer, notifier, maintenance.

#include "txflow/cluster/worker.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>
#include <stdexcept>

#include "cluster/completer.hpp"
#include "cluster/maintenance.hpp"
#include "cluster/notifier.hpp"
#include "cluster/pool.hpp"
#include "cluster/producer.hpp"
#include "store/pg/migrations.hpp"

namespace txflow::cluster {

namespace {

StoreError invalid(std::string message) {
    return StoreError{StoreError::Code::invalid, "cluster::Worker: " + std::move(message)};
}

StoreResult<Ok> normalize(WorkerOptions& o) {
    using std::chrono::milliseconds;
    if (o.queues.empty()) return unexpected(invalid("no queues to work on (options.queues is empty)"));
    for (const auto& q : o.queues) {
        if (q.empty()) return unexpected(invalid("an empty queue name in options.queues"));
    }
    if (o.concurrency < 1) return unexpected(invalid("concurrency must be at least 1"));
    if (o.claim_batch < 1 || o.complete_batch < 1 || o.delete_batch < 1) {
        return unexpected(invalid("claim_batch, complete_batch and delete_batch must be at least 1"));
    }
    if (o.poll_interval <= milliseconds(0)) return unexpected(invalid("poll_interval must be positive"));
    if (o.retention_interval <= milliseconds(0)) return unexpected(invalid("retention_interval must be positive"));
    if (o.lease < milliseconds(100)) return unexpected(invalid("lease must be at least 100 ms"));
    if (!o.heartbeat_interval) o.heartbeat_interval = o.lease / 3;
    if (*o.heartbeat_interval <= milliseconds(0) || *o.heartbeat_interval >= o.lease) {
        return unexpected(invalid(fmt::format("heartbeat_interval ({} ms) must be positive and below the lease ({} ms)",
                                              o.heartbeat_interval->count(), o.lease.count())));
    }
    if (!o.rescue_interval) o.rescue_interval = o.lease / 2;
    if (*o.rescue_interval <= milliseconds(0)) return unexpected(invalid("rescue_interval must be positive"));
    if (!o.node_expiry) o.node_expiry = o.lease * 10;
    if (*o.node_expiry < o.lease) return unexpected(invalid("node_expiry must be at least the lease"));
    return store::pg::check_schema_name(o.pg.schema);
}

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

}  // namespace

struct Worker::Impl {
    Shared shared;
    std::map<std::string, Handler, std::less<>> handlers;
    // Destroyed in reverse: the pool (joining handler threads) before the completer they write to.
    std::unique_ptr<Completer> completer;
    std::unique_ptr<Pool> pool;
    std::unique_ptr<Producer> producer;
    std::unique_ptr<Notifier> notifier;
    std::unique_ptr<Session> maintenance_session;
    std::thread maintenance;
    bool started = false;
    bool stopped = false;
};

Worker::Worker(WorkerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->shared.options = std::move(options);
}

Worker::~Worker() {
    if (impl_->started && !impl_->stopped) (void)stop(std::chrono::steady_clock::now());
}

Worker& Worker::handle(std::string kind, Handler handler) {
    if (impl_->started)
        throw std::logic_error("cluster::Worker::handle(\"" + kind + "\"): register handlers before start()");
    impl_->handlers[std::move(kind)] = std::move(handler);
    return *this;
}

StoreResult<Ok> Worker::start() {
    auto& i = *impl_;
    if (i.started) return unexpected(invalid("start() called twice"));
    auto& s = i.shared;
    if (auto ok = normalize(s.options); !ok) return ok;
    s.log = s.options.logger ? s.options.logger : spdlog::default_logger();
    s.tables = {store::pg::table(s.options.pg.schema, "txflow_jobs"),
                store::pg::table(s.options.pg.schema, "txflow_nodes")};
    s.channel = channel_of(s.options.pg.schema);
    if (s.options.metrics) s.metrics = std::make_unique<WorkerMetrics>(*s.options.metrics, s.options.queues);
    s.host = host_name();
    s.pid = static_cast<int>(::getpid());
    s.name = s.options.name.empty() ? fmt::format("{}:{}", s.host, s.pid) : s.options.name;

    i.maintenance_session =
        std::make_unique<Session>("maintenance", s.options, *s.log, s.stop_services, s.counters.reconnects);
    if (auto ok = i.maintenance_session->open(); !ok) return ok;
    if (auto ok = store::pg::ensure_schema(*i.maintenance_session->connection(), s.options.pg); !ok) return ok;
    auto node = register_node(*i.maintenance_session, s.tables, s.name, s.host, s.pid);
    if (!node) return unexpected(std::move(node.error()));
    s.node_id = *node;

    i.completer = std::make_unique<Completer>(s);
    i.pool = std::make_unique<Pool>(s, *i.completer, i.handlers);
    i.producer = std::make_unique<Producer>(s, *i.pool);
    if (auto ok = i.completer->session().open(); !ok) return ok;
    if (auto ok = i.producer->session().open(); !ok) return ok;
    if (s.options.notify) {
        i.notifier = std::make_unique<Notifier>(s);
        if (auto ok = i.notifier->session().open(); !ok) return ok;
        if (auto ok = i.notifier->listen(); !ok) return ok;
    }
    i.started = true;
    i.completer->start();
    i.pool->start();
    i.producer->start();
    if (i.notifier) i.notifier->start();
    i.maintenance = std::thread([&i] { run_maintenance(i.shared, *i.maintenance_session); });
    s.log->info("txflow cluster: node {} ({}) working on {} with {} thread(s), notify {}", s.node_id.load(), s.name,
                fmt::join(s.options.queues, ", "), s.options.concurrency, s.options.notify ? "on" : "off");
    return Ok{};
}

StopReport Worker::stop(std::chrono::steady_clock::time_point deadline) {
    auto& i = *impl_;
    StopReport report;
    if (!i.started || i.stopped) return report;
    i.stopped = true;
    auto& s = i.shared;
    s.stop_claims.set();
    s.producer_wake.poke();
    i.producer->join();
    if (i.notifier) i.notifier->join();
    // Claimed but not started: back to the queue at once, not a failure.
    for (const auto& job : i.pool->close()) i.completer->setback({{job.id, job.attempt}, true, {}, {}});
    report.drained = i.pool->wait_idle(deadline);
    if (!report.drained) {
        s.holdings.stop_all();
        report.still_running = i.pool->running();
        s.log->warn(
            "txflow cluster: {} handler(s) still running at the stop deadline; asked to stop, their leases "
            "are left to expire",
            report.still_running);
    }
    i.completer->finish(deadline);
    s.stop_services.set();
    if (i.maintenance.joinable()) i.maintenance.join();
    if (report.drained && i.maintenance_session->connected()) {
        if (auto r = remove_node(*i.maintenance_session, s.tables, s.node_id.load()); !r) {
            s.log->warn("txflow cluster: {}", r.error().message);
        }
    }
    if (report.drained) i.pool->join();
    s.log->info("txflow cluster: node {} stopped", s.node_id.load());
    return report;
}

std::int64_t Worker::node_id() const {
    return impl_->shared.node_id.load();
}

WorkerStats Worker::stats() const {
    const auto& c = impl_->shared.counters;
    WorkerStats out;
    out.claimed = c.claimed.load();
    out.completed = c.completed.load();
    out.failed = c.failed.load();
    out.snoozed = c.snoozed.load();
    out.fenced_off = c.fenced_off.load();
    out.rescued = c.rescued.load();
    out.deleted = c.deleted.load();
    out.reconnects = c.reconnects.load();
    out.wakeups = c.wakeups.load();
    return out;
}

}  // namespace txflow::cluster
