#include "cluster/leader_lease.hpp"

#include <algorithm>

namespace txflow::cluster {

using store::StoreResult;
using store::pg::Params;

LeaderLease::LeaderLease(const std::string& schema, std::string election, std::string node,
                         std::chrono::milliseconds lease)
    : table_(store::pg::table(schema, "txflow_leader")),
      election_(std::move(election)),
      node_(std::move(node)),
      lease_ms_(std::to_string(std::max<std::int64_t>(1, lease.count()))) {}

Params LeaderLease::term(std::int64_t epoch) const {
    return Params().text(election_).text(node_).text(std::to_string(epoch));
}

StoreResult<std::optional<std::int64_t>> LeaderLease::acquire(const store::pg::Connection& conn) const {
    // Our own row is ours to take again: node names are unique per process,
    // and a statement of the old term still running holds the row's lock.
    const std::string sql = "INSERT INTO " + table_ +
                            " AS l (name, node, epoch, lease_until, acquired_at, renewed_at) "
                            "VALUES ($1, $2, 1, clock_timestamp() + $3::bigint * interval '1 millisecond', "
                            "clock_timestamp(), clock_timestamp()) "
                            "ON CONFLICT (name) DO UPDATE SET node = EXCLUDED.node, epoch = l.epoch + 1, "
                            "lease_until = EXCLUDED.lease_until, acquired_at = EXCLUDED.acquired_at, "
                            "renewed_at = EXCLUDED.renewed_at "
                            "WHERE l.lease_until <= clock_timestamp() OR l.node = EXCLUDED.node "
                            "RETURNING epoch";
    auto rows = conn.exec("acquiring the leader lease", sql, Params().text(election_).text(node_).text(lease_ms_));
    if (!rows) return unexpected(std::move(rows.error()));
    if (rows->size() == 0) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{rows->int64(0, 0)};
}

StoreResult<bool> LeaderLease::renew(const store::pg::Connection& conn, std::int64_t epoch) const {
    auto rows = conn.exec("renewing the leader lease",
                          "UPDATE " + table_ +
                              " SET lease_until = clock_timestamp() + $4::bigint * interval '1 millisecond', "
                              "renewed_at = clock_timestamp() "
                              "WHERE name = $1 AND node = $2 AND epoch = $3 AND lease_until > clock_timestamp()",
                          term(epoch).text(lease_ms_));
    if (!rows) return unexpected(std::move(rows.error()));
    return rows->affected() == 1;
}

StoreResult<store::Ok> LeaderLease::release(const store::pg::Connection& conn, std::int64_t epoch) const {
    auto rows = conn.exec("releasing the leader lease",
                          "UPDATE " + table_ +
                              " SET lease_until = clock_timestamp() "
                              "WHERE name = $1 AND node = $2 AND epoch = $3 AND lease_until > clock_timestamp()",
                          term(epoch));
    if (!rows) return unexpected(std::move(rows.error()));
    return store::Ok{};
}

StoreResult<bool> LeaderLease::fence(const store::pg::Connection& conn, std::int64_t epoch) const {
    auto rows = conn.exec("checking the leader lease",
                          "SELECT 1 FROM " + table_ +
                              " WHERE name = $1 AND node = $2 AND epoch = $3 AND lease_until > clock_timestamp() "
                              "FOR SHARE",
                          term(epoch));
    if (!rows) return unexpected(std::move(rows.error()));
    return rows->size() == 1;
}

}  // namespace txflow::cluster
