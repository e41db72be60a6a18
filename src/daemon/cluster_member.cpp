// The schedule-file daemon as a cluster member (txflow/daemon/cluster_member.hpp).

#include "txflow/daemon/cluster_member.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cluster_handler.hpp"
#include "command_jobs.hpp"
#include "preflight.hpp"
#include "schedule_file/to_library.hpp"
#include "txflow/cluster/cron_leader.hpp"
#include "txflow/cron/zone.hpp"
#include "txflow/daemon/daemon.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::daemon {

using schedule_file::JobSpec;
using schedule_file::Problems;
using schedule_file::ScheduleFile;
using schedule_file::TriggerKind;
using store::StoreResult;

struct ClusterMember::Impl {
    ScheduleFile file;
    ClusterOptions options;
    std::shared_ptr<spdlog::logger> log;
    std::shared_ptr<detail::SharedSettings> settings;
    std::unique_ptr<cluster::Worker> worker;
    std::unique_ptr<cluster::CronLeader> leader;
    bool started = false;
    bool stopped = false;
};

namespace {

std::string default_node() {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    return fmt::format("{}-{}", host.data(), ::getpid());
}

// Lower runs first in the queue: critical -2 ... low 1.
std::int16_t queue_priority(Priority p) {
    return static_cast<std::int16_t>(1 - static_cast<int>(p));
}

store::EnqueueOptions enqueue_options(const JobSpec& job) {
    store::EnqueueOptions o;
    o.queue = job.queue.empty() ? "default" : job.queue;
    o.priority = queue_priority(job.priority);
    // A node that dies mid-run uses an attempt up as a failure does.
    o.max_attempts = job.retry ? static_cast<std::int32_t>(job.retry->attempts) : 1;
    return o;
}

std::vector<std::string> queues_of(const ScheduleFile& file) {
    std::set<std::string> names{"default"};
    for (const auto& [name, limit] : file.queues) names.insert(name);
    for (const auto& job : file.jobs)
        if (!job.queue.empty()) names.insert(job.queue);
    return {names.begin(), names.end()};
}

// What the cluster cannot run yet, at the job's pointer.
Problems unsupported(const ScheduleFile& file) {
    Problems problems;
    for (std::size_t i = 0; i < file.jobs.size(); ++i) {
        const JobSpec& job = file.jobs[i];
        if (job.command) continue;
        problems.push_back({fmt::format("/jobs/{}", i),
                            fmt::format("job '{}' runs a {}: only command jobs run in cluster mode (\"store\" or "
                                        "--store) so far",
                                        job.name, job.saga.empty() ? "transaction" : "saga")});
    }
    return problems;
}

StoreResult<std::unique_ptr<cluster::CronLeader>> open_leader(const ScheduleFile& file, const ClusterOptions& o,
                                                              const std::string& node,
                                                              std::shared_ptr<spdlog::logger> log) {
    cluster::CronLeaderOptions lo;
    lo.pg = o.pg;
    lo.pg.migrate = false;  // the worker has migrated (or checked) already
    lo.node = node;
    lo.lease = o.lease;
    lo.logger = std::move(log);
    auto leader = cluster::CronLeader::open(lo);
    if (!leader) return leader;
    for (std::size_t i = 0; i < file.jobs.size(); ++i) {
        const JobSpec& job = file.jobs[i];
        if (job.trigger == TriggerKind::at) continue;
        cluster::CronSchedule s;
        s.name = job.name;
        s.expression =
            job.trigger == TriggerKind::cron ? job.cron : "@every " + schedule_file::format_duration(job.every);
        s.zone = job.zone;
        if (job.misfire) s.misfire = schedule_file::to_misfire(*job.misfire);
        s.job.kind = job.name;
        s.job.options = enqueue_options(job);
        if (auto added = (*leader)->add(std::move(s)); !added) {
            return unexpected(
                store::StoreError{added.error().code, fmt::format("/jobs/{}: {}", i, added.error().message)});
        }
    }
    return leader;
}

// `at` jobs still ahead: enqueued once for the cluster (the unique key).
StoreResult<store::Ok> enqueue_at_jobs(const ScheduleFile& file, const ClusterOptions& o) {
    const auto now = std::chrono::system_clock::now();
    std::vector<store::NewJob> batch;
    for (const JobSpec& job : file.jobs) {
        if (job.trigger != TriggerKind::at || job.at <= now) continue;
        store::NewJob n;
        n.kind = job.name;
        n.options = enqueue_options(job);
        n.options.run_at = job.at;
        n.options.unique_key =
            "at:" + job.name + ":" +
            cron::to_rfc3339(std::chrono::floor<std::chrono::milliseconds>(job.at), cron::Zone::utc());
        batch.push_back(std::move(n));
    }
    if (batch.empty()) return store::Ok{};
    store::PgOptions pg = o.pg;
    pg.migrate = false;
    auto queue = store::PgQueue::open(pg);
    if (!queue) return unexpected(std::move(queue.error()));
    auto done = (*queue)->enqueue_batch(batch);
    if (!done) return unexpected(std::move(done.error()));
    return store::Ok{};
}

}  // namespace

ClusterMember::ClusterMember(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClusterMember::~ClusterMember() {
    if (impl_->started && !impl_->stopped) (void)stop(std::chrono::milliseconds{0});
}

Result<std::unique_ptr<ClusterMember>, Problems> ClusterMember::create(ScheduleFile file, ClusterOptions options) {
    Problems problems = unsupported(file);
    auto settings = detail::run_settings(file);
    if (!settings) problems.insert(problems.end(), settings.error().begin(), settings.error().end());
    if (!problems.empty()) return unexpected(std::move(problems));
    auto impl = std::make_unique<Impl>();
    impl->log =
        options.logger ? options.logger : make_logger(options.log_format.value_or(file.log.format), file.log.level);
    if (options.node.empty()) options.node = default_node();
    impl->settings = std::make_shared<detail::SharedSettings>(std::move(*settings));
    impl->file = std::move(file);
    impl->options = std::move(options);
    return std::unique_ptr<ClusterMember>(new ClusterMember(std::move(impl)));
}

StoreResult<store::Ok> ClusterMember::start() {
    Impl& d = *impl_;
    const ClusterOptions& o = d.options;
    cluster::WorkerOptions wo;
    wo.pg = o.pg;
    wo.name = o.node;
    wo.queues = queues_of(d.file);
    wo.concurrency =
        static_cast<unsigned>(d.file.workers.value_or(std::max<std::size_t>(2, std::thread::hardware_concurrency())));
    wo.lease = o.lease;
    wo.poll_interval = o.poll;
    wo.retention = o.retention;
    wo.logger = d.log;
    d.worker = std::make_unique<cluster::Worker>(wo);
    const detail::CommandContext context{d.log, o.kill_grace, d.settings};
    for (const JobSpec& job : d.file.jobs) d.worker->handle(job.name, detail::cluster_handler(job, context, o.node));
    if (auto started = d.worker->start(); !started) return started;
    const bool cron = std::any_of(d.file.jobs.begin(), d.file.jobs.end(),
                                  [](const JobSpec& j) { return j.trigger != TriggerKind::at; });
    if (cron) {
        auto leader = open_leader(d.file, o, o.node, d.log);
        if (!leader) {
            (void)d.worker->stop(std::chrono::milliseconds{0});
            return unexpected(std::move(leader.error()));
        }
        d.leader = std::move(*leader);
        d.leader->start();
    }
    if (auto at = enqueue_at_jobs(d.file, o); !at) {
        if (d.leader) (void)d.leader->stop();
        (void)d.worker->stop(std::chrono::milliseconds{0});
        return at;
    }
    d.started = true;
    d.log->info("cluster member {} started: {} job kind(s), schema {}, {} worker thread(s)", o.node, d.file.jobs.size(),
                o.pg.schema, wo.concurrency);
    return store::Ok{};
}

ClusterStopReport ClusterMember::stop(std::chrono::milliseconds drain) {
    Impl& d = *impl_;
    ClusterStopReport report;
    if (!d.started || d.stopped) return report;
    d.stopped = true;
    // The lease first: another node goes on firing while this one drains.
    if (d.leader && !d.leader->stop(std::chrono::seconds(5))) d.log->warn("the cron leader did not stop in time");
    const cluster::StopReport stopped = d.worker->stop(drain);
    report.drained = stopped.drained;
    report.still_running = stopped.still_running;
    if (!stopped.drained)
        d.log->warn("{} command(s) still running after the drain: stopping them (another node retries their jobs)",
                    stopped.still_running);
    d.worker.reset();  // waits for the stopped commands (SIGTERM, SIGKILL after kill_grace)
    d.leader.reset();
    d.log->info("cluster member {} stopped", d.options.node);
    return report;
}

void ClusterMember::log(std::string_view message) {
    impl_->log->info("{}", message);
}

const std::string& ClusterMember::node() const {
    return impl_->options.node;
}

}  // namespace txflow::daemon
