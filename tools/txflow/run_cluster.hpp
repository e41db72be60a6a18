#pragma once
// `txflow run FILE --store URL` (or "store" in FILE): the daemon as a cluster
// member (daemon/cluster_member.hpp, docs/cluster.md).

#include <signal.h>

#include <chrono>
#include <optional>
#include <string>

#include "command.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::tool {

struct ClusterRunOptions {
    std::string path;
    std::string url;
    std::string schema;
    std::string node;
    std::chrono::milliseconds lease{30'000};
    std::chrono::milliseconds drain{30'000};
    std::chrono::milliseconds kill_grace{5'000};
    std::optional<schedule_file::LogFormat> log_format;
    bool bounded = false;  // --for given
    std::chrono::milliseconds run_for{0};
    std::string run_for_text;
};

// Runs until SIGTERM/SIGINT (SIGHUP is logged and ignored: restart a member
// to change its file) or --for; exit 0 stopped, 1 the file cannot run in
// cluster mode, 2 a bad URL or schema name, 4 the database cannot be reached.
int run_cluster(const ClusterRunOptions& o, schedule_file::ScheduleFile file, const sigset_t& signals, Context& ctx);

}  // namespace txflow::tool
