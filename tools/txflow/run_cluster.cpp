// `txflow run --store`: the daemon as a cluster member (run_cluster.hpp).

#include "run_cluster.hpp"

#include <ostream>
#include <utility>

#include <fmt/format.h>

#include "signals.hpp"
#include "txflow/daemon/cluster_member.hpp"

namespace txflow::tool {

int run_cluster(const ClusterRunOptions& o, schedule_file::ScheduleFile file, const sigset_t& signals, Context& ctx) {
    daemon::ClusterOptions options;
    options.pg.url = o.url;
    options.pg.schema = o.schema;
    options.node = o.node;
    options.lease = o.lease;
    options.kill_grace = o.kill_grace;
    options.log_format = o.log_format;
    auto created = daemon::ClusterMember::create(std::move(file), options);
    if (!created) {
        for (const auto& problem : created.error()) ctx.err << problem.to_string() << '\n';
        throw Failure(kExitNoResult, o.path + ": cannot start");
    }
    daemon::ClusterMember& member = **created;
    if (auto started = member.start(); !started) {
        const bool usage = started.error().code == store::StoreError::Code::invalid;
        throw Failure(usage ? kExitUsage : kExitDatabase, started.error().message);
    }
    const auto deadline = std::chrono::steady_clock::now() + o.run_for;
    while (true) {
        const int sig = wait_signal(signals, o.bounded ? &deadline : nullptr);
        if (sig == 0) {
            member.log("--for " + o.run_for_text + " elapsed");
            break;
        }
        if (sig == SIGHUP) {
            member.log("SIGHUP: a cluster member does not reload its file; restart it to apply a change");
            continue;
        }
        member.log(sig == SIGINT ? "SIGINT: shutting down" : "SIGTERM: shutting down");
        break;
    }
    (void)member.stop(o.drain);
    return kExitOk;
}

}  // namespace txflow::tool
