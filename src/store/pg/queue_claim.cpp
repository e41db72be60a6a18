// Claims and what follows them. Every update of a claimed job is fenced by
// `AND attempt = $token AND state = 'running'`: a worker that lost its job
// (lease expired, rescued, claimed again, or already finished) changes
// nothing, and learns so from the row count.

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "store/pg/claim.hpp"
#include "store/pg/queue_impl.hpp"

namespace txflow::store {

using pg::millis_text;
using pg::Params;

namespace {

constexpr const char* kFence = " WHERE id = $1 AND attempt = $2 AND state = 'running'";

StoreResult<Ok> check_limit(int limit, const char* what) {
    if (limit >= 1) return Ok{};
    return unexpected(
        StoreError{StoreError::Code::invalid, fmt::format("{}: limit must be at least 1, not {}", what, limit)});
}

}  // namespace

StoreResult<std::vector<ClaimedJob>> PgQueue::claim(std::string_view queue, int limit,
                                                    std::chrono::milliseconds lease) {
    if (auto ok = check_limit(limit, "claim"); !ok) return unexpected(std::move(ok.error()));
    std::lock_guard lock(impl_->mutex);
    auto rows =
        impl_->conn.exec("claiming jobs", pg::claim_statement(impl_->jobs, false),
                         Params().text(std::string(queue)).text(std::to_string(limit)).text(millis_text(lease)));
    if (!rows) return unexpected(std::move(rows.error()));
    return pg::claimed_jobs(*rows);
}

StoreResult<bool> PgQueue::heartbeat(std::int64_t id, std::int32_t attempt, std::chrono::milliseconds lease) {
    std::lock_guard lock(impl_->mutex);
    auto r = impl_->conn.exec(
        "extending a lease",
        "UPDATE " + impl_->jobs + " SET lease_until = now() + $3::bigint * interval '1 millisecond'" + kFence,
        Params().text(std::to_string(id)).text(std::to_string(attempt)).text(millis_text(lease)));
    if (!r) return unexpected(std::move(r.error()));
    return r->affected() == 1;
}

StoreResult<bool> PgQueue::complete(std::int64_t id, std::int32_t attempt) {
    std::lock_guard lock(impl_->mutex);
    auto r = impl_->conn.exec(
        "completing a job",
        "UPDATE " + impl_->jobs + " SET state = 'completed', finished_at = now(), lease_until = NULL" + kFence,
        Params().text(std::to_string(id)).text(std::to_string(attempt)));
    if (!r) return unexpected(std::move(r.error()));
    return r->affected() == 1;
}

StoreResult<FailOutcome> PgQueue::fail(std::int64_t id, std::int32_t attempt, std::string_view error,
                                       std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->mutex);
    auto r =
        impl_->conn.exec("failing a job",
                         "UPDATE " + impl_->jobs +
                             " SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END, "
                             "finished_at = CASE WHEN attempt >= max_attempts THEN now() END, "
                             "run_at = CASE WHEN attempt >= max_attempts THEN run_at "
                             "ELSE now() + $4::bigint * interval '1 millisecond' END, "
                             "lease_until = NULL, last_error = $3" +
                             kFence + " RETURNING state",
                         Params()
                             .text(std::to_string(id))
                             .text(std::to_string(attempt))
                             .text(std::string(error))
                             .text(millis_text(delay)));
    if (!r) return unexpected(std::move(r.error()));
    if (r->size() == 0) return FailOutcome::not_taken;
    return r->text(0, 0) == "discarded" ? FailOutcome::discarded : FailOutcome::retried;
}

StoreResult<bool> PgQueue::retry(std::int64_t id, std::int32_t attempt, std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->mutex);
    auto r = impl_->conn.exec("retrying a job",
                              "UPDATE " + impl_->jobs +
                                  " SET state = 'available', lease_until = NULL, "
                                  "run_at = now() + $3::bigint * interval '1 millisecond'" +
                                  kFence,
                              Params().text(std::to_string(id)).text(std::to_string(attempt)).text(millis_text(delay)));
    if (!r) return unexpected(std::move(r.error()));
    return r->affected() == 1;
}

StoreResult<RescueCounts> PgQueue::rescue_expired(int limit) {
    if (auto ok = check_limit(limit, "rescue_expired"); !ok) return unexpected(std::move(ok.error()));
    // The subquery locks each candidate and re-checks state and lease on the
    // row's newest version: a job completed or heartbeated meanwhile is skipped.
    const std::string sql =
        "UPDATE " + impl_->jobs +
        " SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END, "
        "finished_at = CASE WHEN attempt >= max_attempts THEN now() END, "
        "lease_until = NULL, run_at = now(), last_error = 'lease expired (attempt ' || attempt || ')' "
        "WHERE id IN (SELECT id FROM " +
        impl_->jobs +
        " WHERE state = 'running' AND lease_until <= now() ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED) "
        "RETURNING state";
    std::lock_guard lock(impl_->mutex);
    auto r = impl_->conn.exec("rescuing expired jobs", sql, Params().text(std::to_string(limit)));
    if (!r) return unexpected(std::move(r.error()));
    RescueCounts counts;
    for (int i = 0; i < r->size(); ++i) {
        if (r->text(i, 0) == "discarded") ++counts.discarded;
        else ++counts.requeued;
    }
    return counts;
}

}  // namespace txflow::store
