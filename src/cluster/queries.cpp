#include "cluster/queries.hpp"

#include "store/pg/claim.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace txflow::cluster {

using store::pg::millis_text;
using store::pg::Params;

namespace {

// A PostgreSQL array literal ("{1,2,3}") of what `field` gives for each element.
template <class T, class F>
std::string array_of(std::span<const T> items, F field) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ',';
        out += field(items[i]);
    }
    out += '}';
    return out;
}

// An element of a text[] literal: quoted, with " and \ escaped.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

std::string ids(std::span<const Held> held) {
    return array_of(held, [](const Held& h) { return std::to_string(h.id); });
}

std::string attempts(std::span<const Held> held) {
    return array_of(held, [](const Held& h) { return std::to_string(h.attempt); });
}

}  // namespace

StoreResult<std::int64_t> register_node(Session& s, const Tables& t, const std::string& name, const std::string& host,
                                        int pid) {
    auto r =
        s.exec("registering the node", "INSERT INTO " + t.nodes + " (name, host, pid) VALUES ($1, $2, $3) RETURNING id",
               Params().text(name).text(host).text(std::to_string(pid)));
    if (!r) return unexpected(std::move(r.error()));
    return r->int64(0, 0);
}

StoreResult<Ok> restore_node(Session& s, const Tables& t, std::int64_t id, const std::string& name,
                             const std::string& host, int pid) {
    auto r = s.exec("restoring the node row",
                    "INSERT INTO " + t.nodes + " (id, name, host, pid) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    Params().text(std::to_string(id)).text(name).text(host).text(std::to_string(pid)));
    if (!r) return unexpected(std::move(r.error()));
    return Ok{};
}

StoreResult<Ok> remove_node(Session& s, const Tables& t, std::int64_t id) {
    auto r =
        s.exec("removing the node row", "DELETE FROM " + t.nodes + " WHERE id = $1", Params().text(std::to_string(id)));
    if (!r) return unexpected(std::move(r.error()));
    return Ok{};
}

StoreResult<std::vector<store::ClaimedJob>> claim(Session& s, const Tables& t, const std::string& queue, int limit,
                                                  std::chrono::milliseconds lease, std::int64_t node_id) {
    auto rows =
        s.exec("claiming jobs", store::pg::claim_statement(t.jobs, true),
               Params().text(queue).text(std::to_string(limit)).text(millis_text(lease)).text(std::to_string(node_id)));
    if (!rows) return unexpected(std::move(rows.error()));
    return store::pg::claimed_jobs(*rows);
}

StoreResult<std::vector<std::int64_t>> complete_batch(Session& s, const Tables& t, std::span<const Held> done) {
    auto r = s.exec("completing jobs",
                    "UPDATE " + t.jobs +
                        " AS j SET state = 'completed', finished_at = now(), lease_until = NULL, node_id = NULL "
                        "WHERE (j.id, j.attempt) IN (SELECT * FROM unnest($1::bigint[], $2::integer[])) "
                        "AND j.state = 'running' RETURNING j.id",
                    Params().text(ids(done)).text(attempts(done)));
    if (!r) return unexpected(std::move(r.error()));
    std::vector<std::int64_t> taken;
    taken.reserve(static_cast<std::size_t>(r->size()));
    for (int i = 0; i < r->size(); ++i) taken.push_back(r->int64(i, 0));
    return taken;
}

StoreResult<std::vector<SetbackTaken>> fail_batch(Session& s, const Tables& t, std::span<const Setback> setbacks) {
    const std::string sql =
        "UPDATE " + t.jobs +
        " AS j SET "
        "state = CASE WHEN NOT f.snooze AND j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END, "
        "finished_at = CASE WHEN NOT f.snooze AND j.attempt >= j.max_attempts THEN now() END, "
        "run_at = CASE WHEN NOT f.snooze AND j.attempt >= j.max_attempts THEN j.run_at "
        "ELSE now() + f.delay_ms * interval '1 millisecond' END, "
        "last_error = CASE WHEN f.snooze THEN j.last_error ELSE f.error END, lease_until = NULL, node_id = NULL "
        "FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::bigint[], $5::boolean[]) "
        "AS f(id, attempt, error, delay_ms, snooze) "
        "WHERE j.id = f.id AND j.attempt = f.attempt AND j.state = 'running' RETURNING j.id, j.state";
    Params params;
    params.text(array_of(setbacks, [](const Setback& b) { return std::to_string(b.job.id); }));
    params.text(array_of(setbacks, [](const Setback& b) { return std::to_string(b.job.attempt); }));
    params.text(array_of(setbacks, [](const Setback& b) { return quoted(b.error); }));
    params.text(array_of(setbacks, [](const Setback& b) { return millis_text(b.delay); }));
    params.text(array_of(setbacks, [](const Setback& b) { return std::string(b.snooze ? "t" : "f"); }));
    auto r = s.exec("failing jobs", sql, params);
    if (!r) return unexpected(std::move(r.error()));
    std::vector<SetbackTaken> taken;
    for (int i = 0; i < r->size(); ++i) taken.push_back({r->int64(i, 0), r->text(i, 1) == "discarded"});
    return taken;
}

StoreResult<HeartbeatResult> heartbeat(Session& s, const Tables& t, std::int64_t node_id,
                                       std::chrono::milliseconds lease, std::span<const Held> held) {
    const std::string sql = "WITH node AS (UPDATE " + t.nodes +
                            " SET heartbeat_at = now() WHERE id = $1 RETURNING id), " + "leased AS (UPDATE " + t.jobs +
                            " AS j SET lease_until = now() + $2::bigint * interval '1 millisecond' "
                            "FROM unnest($3::bigint[], $4::integer[]) AS o(id, attempt) "
                            "WHERE j.id = o.id AND j.attempt = o.attempt AND j.state = 'running' RETURNING j.id) "
                            "SELECT 0, count(*) FROM node UNION ALL SELECT 1, id FROM leased";
    auto r =
        s.exec("heartbeat", sql,
               Params().text(std::to_string(node_id)).text(millis_text(lease)).text(ids(held)).text(attempts(held)));
    if (!r) return unexpected(std::move(r.error()));
    HeartbeatResult out;
    for (int i = 0; i < r->size(); ++i) {
        if (r->int64(i, 0) == 0) out.node_found = r->int64(i, 1) > 0;
        else out.extended.push_back(r->int64(i, 1));
    }
    return out;
}

StoreResult<store::RescueCounts> rescue_expired(Session& s, const Tables& t, int limit) {
    // The subquery locks each candidate and re-checks state and lease on the
    // row's newest version: a job completed or heartbeated meanwhile is skipped.
    const std::string sql =
        "UPDATE " + t.jobs +
        " SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END, "
        "finished_at = CASE WHEN attempt >= max_attempts THEN now() END, node_id = NULL, "
        "lease_until = NULL, run_at = now(), last_error = 'lease expired (attempt ' || attempt || ')' "
        "WHERE id IN (SELECT id FROM " +
        t.jobs +
        " WHERE state = 'running' AND lease_until <= now() ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED) "
        "RETURNING state";
    auto r = s.exec("rescuing expired jobs", sql, Params().text(std::to_string(limit)));
    if (!r) return unexpected(std::move(r.error()));
    store::RescueCounts counts;
    for (int i = 0; i < r->size(); ++i) {
        if (r->text(i, 0) == "discarded") ++counts.discarded;
        else ++counts.requeued;
    }
    return counts;
}

StoreResult<std::uint64_t> remove_dead_nodes(Session& s, const Tables& t, std::chrono::milliseconds expiry) {
    auto r = s.exec("removing dead nodes",
                    "DELETE FROM " + t.nodes + " WHERE heartbeat_at < now() - $1::bigint * interval '1 millisecond'",
                    Params().text(millis_text(expiry)));
    if (!r) return unexpected(std::move(r.error()));
    return r->affected();
}

StoreResult<std::uint64_t> delete_finished(Session& s, const Tables& t, const char* state,
                                           std::chrono::milliseconds age, int limit) {
    auto r = s.exec(fmt::format("deleting {} jobs past retention", state),
                    "DELETE FROM " + t.jobs + " WHERE id IN (SELECT id FROM " + t.jobs +
                        " WHERE state = $1 AND finished_at < now() - $2::bigint * interval '1 millisecond' "
                        "ORDER BY finished_at LIMIT $3 FOR UPDATE SKIP LOCKED)",
                    Params().text(state).text(millis_text(age)).text(std::to_string(limit)));
    if (!r) return unexpected(std::move(r.error()));
    return r->affected();
}

}  // namespace txflow::cluster
