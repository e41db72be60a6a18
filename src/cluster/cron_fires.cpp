#include "cluster/cron_fires.hpp"

#include <fmt/format.h>

#include "cluster/cron_fire_plan.hpp"

namespace txflow::cluster {

using store::Ok;
using store::StoreResult;
using store::pg::Params;

namespace {

std::string utc(cron::Instant t) {
    return cron::to_rfc3339(t, cron::Zone::utc());
}

}  // namespace

std::string cron_unique_key(const std::string& schedule, cron::Instant fire_at) {
    return fmt::format("cron:{}:{}", schedule, utc(fire_at));
}

CronFires::CronFires(const std::string& schema)
    : schedules_(store::pg::table(schema, "txflow_cron_schedules")),
      fires_(store::pg::table(schema, "txflow_cron_fires")),
      jobs_(store::pg::table(schema, "txflow_jobs")) {}

StoreResult<FireOutcome> CronFires::fire_due(const store::pg::Connection& conn, const FireTerm& term,
                                             const CronSchedule& def, const cron::Schedule& schedule, cron::Instant now,
                                             std::chrono::milliseconds grace) const {
    const std::string what = fmt::format("cron schedule \"{}\": inserting fires", def.name);
    const std::string zone(schedule.zone().name());
    FireOutcome out;
    auto done = store::pg::in_transaction(conn, what, [&]() -> StoreResult<Ok> {
        if (term.lease != nullptr) {
            auto ours = term.lease->fence(conn, term.epoch);
            if (!ours) return unexpected(std::move(ours.error()));
            if (!*ours) {
                out.fenced = true;
                return Ok{};  // nothing written: COMMIT of an empty transaction
            }
        }
        // Created on first sight, counting from now; then locked, so that
        // concurrent writers of one schedule never plan from the same
        // last fire. SKIP LOCKED: a schedule locked right now is being fired
        // by another leader (two at once): leave it to that one this time.
        auto created = conn.exec(what,
                                 "INSERT INTO " + schedules_ +
                                     " (schedule, expression, zone, since) VALUES ($1, $2, $3, $4::timestamptz) "
                                     "ON CONFLICT (schedule) DO NOTHING",
                                 Params().text(def.name).text(def.expression).text(zone).text(utc(now)));
        if (!created) return unexpected(std::move(created.error()));
        auto state = conn.exec(what,
                               "SELECT (extract(epoch FROM coalesce(last_fire, since)) * 1000)::bigint FROM " +
                                   schedules_ + " WHERE schedule = $1 FOR UPDATE SKIP LOCKED",
                               Params().text(def.name));
        if (!state) return unexpected(std::move(state.error()));
        if (state->size() == 0) {
            out.busy = true;
            return Ok{};
        }
        const cron::Instant base{std::chrono::milliseconds{state->int64(0, 0)}};
        const FirePlan plan = plan_fires(schedule, def.misfire, base, now, grace);
        out.decided = plan.last.value_or(base);
        out.misfired = plan.misfired;
        for (const auto fire_at : plan.run) {
            const std::string key = cron_unique_key(def.name, fire_at);
            const auto& o = def.job.options;
            auto wrote =
                conn.exec(what,
                          "WITH fire AS (INSERT INTO " + fires_ +
                              " (schedule, fire_at, job_id, leader_node, epoch) "
                              "VALUES ($1, $2::timestamptz, nextval(pg_get_serial_sequence($3, 'id')), $4, $5) "
                              "ON CONFLICT (schedule, fire_at) DO NOTHING RETURNING job_id), "
                              "job AS (INSERT INTO " +
                              jobs_ +
                              " (id, kind, queue, payload, priority, max_attempts, unique_key) "
                              "SELECT job_id, $6, $7, $8, $9, $10, $11 FROM fire "
                              "ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id) "
                              "SELECT (SELECT count(*) FROM fire), (SELECT count(*) FROM job)",
                          Params()
                              .text(def.name)
                              .text(utc(fire_at))
                              .text(jobs_)
                              .text(term.node)
                              .text(std::to_string(term.epoch))
                              .text(def.job.kind)
                              .text(o.queue)
                              .binary(def.job.payload)
                              .text(std::to_string(o.priority))
                              .text(std::to_string(o.max_attempts))
                              .text(key));
            if (!wrote) return unexpected(std::move(wrote.error()));
            if (wrote->int64(0, 0) == 0) {
                ++out.duplicate;
                continue;
            }
            ++out.inserted;
            if (wrote->int64(0, 1) == 1) continue;
            // The fire is new but its job's key is taken (its old fire row
            // was deleted): point the fire at that job, insert no second one.
            auto linked = conn.exec(what,
                                    "UPDATE " + fires_ + " SET job_id = (SELECT id FROM " + jobs_ +
                                        " WHERE unique_key = $3) WHERE schedule = $1 AND fire_at = $2::timestamptz",
                                    Params().text(def.name).text(utc(fire_at)).text(key));
            if (!linked) return unexpected(std::move(linked.error()));
        }
        if (!plan.last) return Ok{};
        auto recorded = conn.exec(what,
                                  "UPDATE " + schedules_ +
                                      " SET last_fire = $2::timestamptz, misfired = misfired + $3::bigint, "
                                      "expression = $4, zone = $5, "
                                      "last_misfire_at = CASE WHEN $3::bigint > 0 THEN now() ELSE last_misfire_at "
                                      "END, updated_at = now() WHERE schedule = $1",
                                  Params()
                                      .text(def.name)
                                      .text(utc(*plan.last))
                                      .text(std::to_string(plan.misfired))
                                      .text(def.expression)
                                      .text(zone));
        if (!recorded) return unexpected(std::move(recorded.error()));
        return Ok{};
    });
    if (!done) return unexpected(std::move(done.error()));
    return out;
}

}  // namespace txflow::cluster
