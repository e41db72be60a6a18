// `txflow cluster status --store URL [--schema NAME] [--json]`
//
// The cluster's shared state (cluster::read_status), read in one snapshot:
//
//   nodes: 2
//     7  web-1-4242   host web-1  pid 4242  heartbeat 1.2s ago  running 3
//   leader cron: web-1-4242 (epoch 12, lease 9.1s left)
//   KIND          AVAILABLE  RUNNING  COMPLETED  DISCARDED  CANCELLED
//   report                0        1         31          0          0
//
// A leader whose lease has passed shows "(epoch N, lapsed)". --json prints
// {"nodes": [...], "leaders": [...], "kinds": [...]} with the same fields.
// Exit status: 0 read, 2 usage (also a malformed URL or schema name), 4 the
// database cannot be reached, failed, or its schema is not migrated.

#include "cluster_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "txflow/cluster/status.hpp"

namespace txflow::tool {
namespace {

struct StatusCli {
    std::string url;
    std::string schema = "txflow";
    bool json = false;
};

std::string seconds(std::chrono::milliseconds d) {
    return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0);
}

nlohmann::json to_json(const cluster::ClusterStatus& s) {
    nlohmann::json out{
        {"nodes", nlohmann::json::array()}, {"leaders", nlohmann::json::array()}, {"kinds", nlohmann::json::array()}};
    for (const auto& n : s.nodes) {
        out["nodes"].push_back({{"id", n.id},
                                {"name", n.name},
                                {"host", n.host},
                                {"pid", n.pid},
                                {"since_heartbeat_ms", n.since_heartbeat.count()},
                                {"running", n.running}});
    }
    for (const auto& l : s.leaders) {
        out["leaders"].push_back({{"election", l.election},
                                  {"node", l.node},
                                  {"epoch", l.epoch},
                                  {"valid", l.valid},
                                  {"left_ms", l.left.count()}});
    }
    for (const auto& k : s.kinds) {
        out["kinds"].push_back({{"kind", k.kind},
                                {"available", k.available},
                                {"running", k.running},
                                {"completed", k.completed},
                                {"discarded", k.discarded},
                                {"cancelled", k.cancelled}});
    }
    return out;
}

int run_status(const StatusCli& o, Context& ctx) {
    store::PgOptions pg;
    pg.url = o.url;
    pg.schema = o.schema;
    auto status = cluster::read_status(pg);
    if (!status) {
        const bool usage = status.error().code == store::StoreError::Code::invalid &&
                           status.error().message.find("bad ") != std::string::npos;
        throw Failure(usage ? kExitUsage : kExitDatabase, status.error().message);
    }
    std::ostream& out = ctx.out;
    if (o.json) {
        out << to_json(*status).dump(2) << '\n';
        return kExitOk;
    }
    out << "nodes: " << status->nodes.size() << '\n';
    for (const auto& n : status->nodes) {
        out << fmt::format("  {}  {}  host {}  pid {}  heartbeat {} ago  running {}\n", n.id, n.name, n.host, n.pid,
                           seconds(n.since_heartbeat), n.running);
    }
    if (status->leaders.empty()) out << "leader: none\n";
    for (const auto& l : status->leaders) {
        out << fmt::format("leader {}: {} (epoch {}, {})\n", l.election, l.node, l.epoch,
                           l.valid ? "lease " + seconds(l.left) + " left" : std::string("lapsed"));
    }
    out << fmt::format("{:<24} {:>10} {:>8} {:>10} {:>10} {:>10}\n", "KIND", "AVAILABLE", "RUNNING", "COMPLETED",
                       "DISCARDED", "CANCELLED");
    for (const auto& k : status->kinds) {
        out << fmt::format("{:<24} {:>10} {:>8} {:>10} {:>10} {:>10}\n", k.kind, k.available, k.running, k.completed,
                           k.discarded, k.cancelled);
    }
    return kExitOk;
}

}  // namespace

void add_cluster_commands(CLI::App& app, Context& ctx) {
    CLI::App* cluster = app.add_subcommand("cluster", "A cluster on PostgreSQL: its nodes, cron leader and jobs");
    cluster->require_subcommand(1);
    auto o = std::make_shared<StatusCli>();
    CLI::App* status = cluster->add_subcommand("status", "Nodes, the cron leader, and jobs per kind and state");
    status->add_option("--store", o->url, "The database: postgresql://user@host:port/db (a libpq connection string)")
        ->required()
        ->type_name("URL");
    status->add_option("--schema", o->schema, "The schema holding txflow's tables")
        ->type_name("NAME")
        ->capture_default_str();
    status->add_flag("--json", o->json, "One JSON object instead of text");
    status->footer("Exit status: 0 read, 2 usage error, 4 the database cannot be reached or failed.");
    status->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_status(*o, ctx); }; });
}

}  // namespace txflow::tool
