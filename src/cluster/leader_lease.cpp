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
    // Our own row is ours to take again: node names are unique per process.
    // SKIP LOCKED: a row locked right now belongs to a leader inside a fire
    // transaction (or to another node taking it): not free, and no reason to
    // wait for it.
    const std::string what = "acquiring the leader lease";
    auto taken = conn.exec(what,
                           "UPDATE " + table_ +
                               " AS l SET node = $2, epoch = l.epoch + 1, "
                               "lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond', "
                               "acquired_at = clock_timestamp(), renewed_at = clock_timestamp() "
                               "FROM (SELECT name FROM " +
                               table_ +
                               " WHERE name = $1 AND (lease_until <= clock_timestamp() OR node = $2) "
                               "FOR UPDATE SKIP LOCKED) AS free WHERE l.name = free.name RETURNING l.epoch",
                           Params().text(election_).text(node_).text(lease_ms_));
    if (!taken) return unexpected(std::move(taken.error()));
    if (taken->size() == 1) return std::optional<std::int64_t>{taken->int64(0, 0)};
    // No row yet (the first term), or a row that is not free.
    auto first = conn.exec(what,
                           "INSERT INTO " + table_ +
                               " (name, node, epoch, lease_until, acquired_at, renewed_at) "
                               "VALUES ($1, $2, 1, clock_timestamp() + $3::bigint * interval '1 millisecond', "
                               "clock_timestamp(), clock_timestamp()) "
                               "ON CONFLICT (name) DO NOTHING RETURNING epoch",
                           Params().text(election_).text(node_).text(lease_ms_));
    if (!first) return unexpected(std::move(first.error()));
    if (first->size() == 0) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{first->int64(0, 0)};
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
