#include "store/pg/claim.hpp"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>

namespace txflow::store::pg {

std::string claim_statement(const std::string& jobs_table, bool set_node) {
    return "UPDATE " + jobs_table + " SET state = 'running', attempt = attempt + 1, attempted_at = now(), " +
           (set_node ? "node_id = $4, " : "") +
           "lease_until = now() + $3::bigint * interval '1 millisecond' "
           "WHERE id IN (SELECT id FROM " +
           jobs_table +
           " WHERE state = 'available' AND queue = $1 AND run_at <= now() "
           "ORDER BY priority, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
           "RETURNING id, kind, queue, payload, priority, attempt, max_attempts, "
           "(extract(epoch from run_at) * 1000000)::bigint, traceparent, tracestate, unique_key";
}

std::vector<ClaimedJob> claimed_jobs(const Rows& rows) {
    struct Row {
        ClaimedJob job;
        std::int64_t run_at_us;
    };
    std::vector<Row> got;
    got.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
        ClaimedJob j;
        j.id = rows.int64(i, 0);
        j.kind = std::string(rows.text(i, 1));
        j.queue = std::string(rows.text(i, 2));
        j.payload = rows.bytes(i, 3);
        j.priority = static_cast<std::int16_t>(rows.int64(i, 4));
        j.attempt = static_cast<std::int32_t>(rows.int64(i, 5));
        j.max_attempts = static_cast<std::int32_t>(rows.int64(i, 6));
        if (!rows.is_null(i, 8)) j.traceparent = std::string(rows.text(i, 8));
        if (!rows.is_null(i, 9)) j.tracestate = std::string(rows.text(i, 9));
        if (!rows.is_null(i, 10)) j.unique_key = std::string(rows.text(i, 10));
        got.push_back(Row{std::move(j), rows.int64(i, 7)});
    }
    std::sort(got.begin(), got.end(), [](const Row& a, const Row& b) {
        return std::tie(a.job.priority, a.run_at_us, a.job.id) < std::tie(b.job.priority, b.run_at_us, b.job.id);
    });
    std::vector<ClaimedJob> out;
    out.reserve(got.size());
    for (auto& r : got) out.push_back(std::move(r.job));
    return out;
}

}  // namespace txflow::store::pg
