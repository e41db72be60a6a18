// GET /api/v1/cluster: with DashboardOptions::cluster (the PostgreSQL store of
// a cluster), its nodes, cron leader leases and running jobs with their lease
// expiry, read from the cluster schema (docs/cluster.md). One short
// connection per request: the page polls it only while it is open.

#include "internal.hpp"
#include "store/pg/connection.hpp"

namespace txflow::http::dash {
namespace {

namespace pg = store::pg;

constexpr int kMaxRunning = 500;

std::string ms(std::string_view column) {
    return "(extract(epoch FROM " + std::string(column) + ") * 1000)::bigint";
}

json nullable_int(const pg::Rows& rows, int row, int col) {
    return rows.is_null(row, col) ? json(nullptr) : json(rows.int64(row, col));
}

store::StoreResult<json> read_cluster(const store::PgOptions& options) {
    if (auto ok = pg::check_schema_name(options.schema); !ok) return unexpected(std::move(ok.error()));
    auto conn = pg::Connection::open(options);
    if (!conn) return unexpected(std::move(conn.error()));
    const std::string nodes = pg::table(options.schema, "txflow_nodes");
    const std::string leader = pg::table(options.schema, "txflow_leader");
    const std::string jobs = pg::table(options.schema, "txflow_jobs");
    json out{{"enabled", true}, {"schema", options.schema}};

    auto now = conn->exec("dashboard: now", "SELECT " + ms("now()"));
    if (!now) return unexpected(std::move(now.error()));
    out["now"] = now->int64(0, 0);

    auto node_rows = conn->exec("dashboard: nodes", "SELECT n.id, n.name, n.host, n.pid, " + ms("n.started_at") + ", " +
                                                        ms("n.heartbeat_at") + ", (SELECT count(*) FROM " + jobs +
                                                        " j WHERE j.node_id = n.id AND j.state = 'running') FROM " +
                                                        nodes + " n ORDER BY n.id");
    if (!node_rows) return unexpected(std::move(node_rows.error()));
    json node_list = json::array();
    for (int i = 0; i < node_rows->size(); ++i)
        node_list.push_back({{"id", node_rows->int64(i, 0)},
                             {"name", node_rows->text(i, 1)},
                             {"host", node_rows->text(i, 2)},
                             {"pid", node_rows->int64(i, 3)},
                             {"started", node_rows->int64(i, 4)},
                             {"heartbeat", node_rows->int64(i, 5)},
                             {"running", node_rows->int64(i, 6)}});
    out["nodes"] = std::move(node_list);

    auto leader_rows = conn->exec("dashboard: leaders", "SELECT name, node, epoch, " + ms("lease_until") + ", " +
                                                            ms("acquired_at") + ", " + ms("renewed_at") +
                                                            ", lease_until > now() FROM " + leader + " ORDER BY name");
    if (!leader_rows) return unexpected(std::move(leader_rows.error()));
    json leaders = json::array();
    for (int i = 0; i < leader_rows->size(); ++i)
        leaders.push_back({{"name", leader_rows->text(i, 0)},
                           {"node", leader_rows->text(i, 1)},
                           {"epoch", leader_rows->int64(i, 2)},
                           {"lease_until", leader_rows->int64(i, 3)},
                           {"acquired", leader_rows->int64(i, 4)},
                           {"renewed", leader_rows->int64(i, 5)},
                           {"held", leader_rows->text(i, 6) == "t"}});
    out["leaders"] = std::move(leaders);

    auto running = conn->exec(
        "dashboard: running jobs",
        "SELECT id, kind, queue, attempt, node_id, " + ms("lease_until") + ", " + ms("attempted_at") + " FROM " + jobs +
            " WHERE state = 'running' ORDER BY lease_until, id LIMIT " + std::to_string(kMaxRunning));
    if (!running) return unexpected(std::move(running.error()));
    json leases = json::array();
    for (int i = 0; i < running->size(); ++i)
        leases.push_back({{"id", running->int64(i, 0)},
                          {"kind", running->text(i, 1)},
                          {"queue", running->text(i, 2)},
                          {"attempt", running->int64(i, 3)},
                          {"node_id", nullable_int(*running, i, 4)},
                          {"lease_until", nullable_int(*running, i, 5)},
                          {"attempted", nullable_int(*running, i, 6)}});
    out["running"] = std::move(leases);
    return out;
}

}  // namespace

Response cluster(const Dashboard::Impl& d) {
    if (!d.options.cluster) return json_response(json{{"enabled", false}});
    auto view = read_cluster(*d.options.cluster);
    if (!view) return error(503, "cluster store: " + view.error().message);
    return json_response(*view);
}

}  // namespace txflow::http::dash
