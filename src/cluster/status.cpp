// A snapshot of a cluster's shared state (txflow/cluster/status.hpp).

#include "txflow/cluster/status.hpp"

#include <string>

#include "store/pg/connection.hpp"
#include "store/pg/migrations.hpp"

namespace txflow::cluster {
namespace {

using store::Ok;
using store::StoreResult;
using store::pg::Connection;

std::chrono::milliseconds ms(const store::pg::Rows& r, int row, int col) {
    return std::chrono::milliseconds{r.int64(row, col)};
}

}  // namespace

StoreResult<ClusterStatus> read_status(const store::PgOptions& pg) {
    store::PgOptions options = pg;
    options.migrate = false;
    auto conn = Connection::open(options);
    if (!conn) return unexpected(std::move(conn.error()));
    if (auto ok = store::pg::ensure_schema(*conn, options); !ok) return unexpected(std::move(ok.error()));
    const std::string jobs = store::pg::table(options.schema, "txflow_jobs");
    const std::string nodes = store::pg::table(options.schema, "txflow_nodes");
    const std::string leader = store::pg::table(options.schema, "txflow_leader");
    ClusterStatus out;
    auto done = store::pg::in_transaction(*conn, "reading the cluster's status", [&]() -> StoreResult<Ok> {
        if (auto r = conn->exec("reading the cluster's status", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); !r)
            return unexpected(std::move(r.error()));
        auto n = conn->exec("reading the nodes",
                            "SELECT n.id, n.name, n.host, n.pid, "
                            "(extract(epoch from clock_timestamp() - n.heartbeat_at) * 1000)::bigint, "
                            "(SELECT count(*) FROM " +
                                jobs + " j WHERE j.node_id = n.id AND j.state = 'running') FROM " + nodes +
                                " n ORDER BY n.id");
        if (!n) return unexpected(std::move(n.error()));
        for (int i = 0; i < n->size(); ++i) {
            out.nodes.push_back(NodeStatus{n->int64(i, 0), std::string(n->text(i, 1)), std::string(n->text(i, 2)),
                                           static_cast<std::int32_t>(n->int64(i, 3)), ms(*n, i, 4), n->int64(i, 5)});
        }
        auto l = conn->exec("reading the leader",
                            "SELECT name, node, epoch, lease_until > clock_timestamp(), "
                            "greatest(0, (extract(epoch from lease_until - clock_timestamp()) * 1000)::bigint) FROM " +
                                leader + " ORDER BY name");
        if (!l) return unexpected(std::move(l.error()));
        for (int i = 0; i < l->size(); ++i) {
            out.leaders.push_back(LeaderStatus{std::string(l->text(i, 0)), std::string(l->text(i, 1)), l->int64(i, 2),
                                               l->text(i, 3) == "t", ms(*l, i, 4)});
        }
        auto k = conn->exec("counting the jobs",
                            "SELECT kind, count(*) FILTER (WHERE state = 'available'), "
                            "count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'completed'), "
                            "count(*) FILTER (WHERE state = 'discarded'), count(*) FILTER (WHERE state = 'cancelled') "
                            "FROM " +
                                jobs + " GROUP BY kind ORDER BY kind");
        if (!k) return unexpected(std::move(k.error()));
        for (int i = 0; i < k->size(); ++i) {
            out.kinds.push_back(KindStatus{std::string(k->text(i, 0)), k->int64(i, 1), k->int64(i, 2), k->int64(i, 3),
                                           k->int64(i, 4), k->int64(i, 5)});
        }
        return Ok{};
    });
    if (!done) return unexpected(std::move(done.error()));
    return out;
}

}  // namespace txflow::cluster
