#pragma once
// What the cron leader tests share: a schema of their own ("pgcron_..."),
// leaders on one ManualClock, and reading the fires and jobs back.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/pg_test_util.hpp"
#include "support/test_support.hpp"
#include "txflow/cluster/cron_leader.hpp"

namespace txflow::test {

inline cluster::CronLeaderOptions cron_options(const PgSchema& schema, Clock& clock, std::string node) {
    cluster::CronLeaderOptions o;
    o.pg = schema.options();
    o.node = std::move(node);
    o.clock = &clock;
    o.logger = quiet_logger();
    // Tests jump the clock by seconds: no misfires unless a test asks for them.
    o.misfire_grace = std::chrono::hours(1);
    return o;
}

inline std::unique_ptr<cluster::CronLeader> open_leader(cluster::CronLeaderOptions o) {
    auto leader = cluster::CronLeader::open(std::move(o));
    INFO((leader ? "" : leader.error().message));
    REQUIRE(leader);
    return std::move(*leader);
}

inline cluster::CronSchedule every_second(std::string name, Misfire misfire = Misfire::fire_once()) {
    cluster::CronSchedule s;
    s.name = std::move(name);
    s.expression = "* * * * * *";
    s.misfire = misfire;
    s.job.kind = "tick";
    s.job.payload = "p";
    return s;
}

inline void add(cluster::CronLeader& leader, cluster::CronSchedule s) {
    auto added = leader.add(std::move(s));
    INFO((added ? "" : added.error().message));
    REQUIRE(added);
}

inline cluster::CronTick tick(cluster::CronLeader& leader) {
    auto t = leader.tick();
    INFO((t ? "" : t.error().message));
    REQUIRE(t);
    return *t;
}

// The fires of `schedule` as UTC text, in order.
inline std::vector<std::string> fires_of(const RawConn& db, const PgSchema& schema, const std::string& schedule) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> r(
        PQexec(db.get(), ("SELECT to_char(fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM " +
                          schema.table("txflow_cron_fires") + " WHERE schedule = '" + schedule + "' ORDER BY fire_at")
                             .c_str()),
        &PQclear);
    REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
    return out;
}

// Every fire has exactly one job, under its unique key, and no job lacks a fire.
inline void check_one_job_per_fire(const RawConn& db, const PgSchema& schema) {
    const auto fires = schema.table("txflow_cron_fires");
    const auto jobs = schema.table("txflow_jobs");
    CHECK(db.exec("SELECT count(*) FROM " + fires + " f LEFT JOIN " + jobs +
                  " j ON j.id = f.job_id WHERE j.id IS NULL") == "0");
    CHECK(db.exec("SELECT count(*) FROM " + jobs) == db.exec("SELECT count(*) FROM " + fires));
    CHECK(db.exec("SELECT count(*) FROM " + fires + " f JOIN " + jobs +
                  " j ON j.id = f.job_id WHERE j.unique_key <> 'cron:' || f.schedule || ':' || "
                  "to_char(f.fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')") == "0");
}

}  // namespace txflow::test
