// Cluster cron across downtime and DST: misfire policies counted from the
// last fire recorded in the database (whichever node recorded it), and
// schedules in a zone inserting the right instants around DST changes.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cluster/cron_leader_util.hpp"

namespace cron_leader_misfire_test {

using namespace std::chrono_literals;
using txflow::ManualClock;
using txflow::Misfire;
using txflow::test::add;
using txflow::test::cron_options;
using txflow::test::fires_of;
using txflow::test::open_leader;
using txflow::test::PgSchema;
using txflow::test::RawConn;
using txflow::test::tick;
using txflow::test::wall;

TEST_CASE("cron leader: misfires after a full-cluster downtime follow the policy, from the last recorded fire",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "misfire", "pgcron_");
    ManualClock clock(wall("2026-12-07T10:00:00Z"));
    auto schedule = txflow::test::every_second("minutely");
    schedule.expression = "0 * * * * *";
    struct Case {
        Misfire policy;
        std::vector<std::string> after_downtime;  // fires inserted by the node that comes back
        std::uint64_t misfired;
    };
    const auto [policy, expected, misfired] = GENERATE(
        Case{Misfire::fire_once(), {"2026-12-07T10:11:00Z"}, 9}, Case{Misfire::skip(), {}, 10},
        Case{Misfire::fire_all(3), {"2026-12-07T10:02:00Z", "2026-12-07T10:03:00Z", "2026-12-07T10:04:00Z"}, 7},
        Case{Misfire::fire_all(20),
             {"2026-12-07T10:02:00Z", "2026-12-07T10:03:00Z", "2026-12-07T10:04:00Z", "2026-12-07T10:05:00Z",
              "2026-12-07T10:06:00Z", "2026-12-07T10:07:00Z", "2026-12-07T10:08:00Z", "2026-12-07T10:09:00Z",
              "2026-12-07T10:10:00Z", "2026-12-07T10:11:00Z"},
             0});
    schedule.misfire = policy;
    const auto options = [&](std::string node) {
        auto o = cron_options(schema, clock, std::move(node));
        o.misfire_grace = 1s;
        return o;
    };
    {
        auto a = open_leader(options("node-a"));
        add(*a, schedule);
        REQUIRE(tick(*a).leader);
        clock.advance(1min);
        CHECK(tick(*a).inserted == 1);  // 10:01, on time
        // The whole cluster goes down (a's destructor gives the lease up).
    }
    clock.advance(10min + 30s);  // back at 10:11:30: 10:02 ... 10:11 were missed, all late
    auto b = open_leader(options("node-b"));
    add(*b, schedule);
    const auto t = tick(*b);
    REQUIRE(t.leader);
    CHECK(t.inserted == expected.size());
    CHECK(t.misfired == misfired);

    RawConn db(*url);
    std::vector<std::string> all{"2026-12-07T10:01:00Z"};
    all.insert(all.end(), expected.begin(), expected.end());
    CHECK(fires_of(db, schema, "minutely") == all);
    txflow::test::check_one_job_per_fire(db, schema);
    const auto state = schema.table("txflow_cron_schedules");
    CHECK(db.exec("SELECT misfired FROM " + state) == std::to_string(misfired));
    CHECK(db.exec("SELECT to_char(last_fire AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM " + state) == "10:11:00");

    // Back to normal: the next fire is on time whatever the policy.
    clock.advance(30s);
    CHECK(tick(*b).inserted == 1);
    CHECK(fires_of(db, schema, "minutely").back() == "2026-12-07T10:12:00Z");
}

TEST_CASE("cron leader: a fire within the grace is no misfire, across a leader change", "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "grace", "pgcron_");
    ManualClock clock(wall("2026-12-07T10:00:00Z"));
    auto schedule = txflow::test::every_second("minutely", Misfire::skip());
    schedule.expression = "0 * * * * *";
    auto o = cron_options(schema, clock, "node-a");
    o.misfire_grace = 5s;
    {
        auto a = open_leader(o);
        add(*a, schedule);
        REQUIRE(tick(*a).leader);
    }
    clock.advance(1min + 4s);  // 10:01 is 4 s late: within the grace
    o.node = "node-b";
    auto b = open_leader(o);
    add(*b, schedule);
    const auto t = tick(*b);
    CHECK(t.inserted == 1);
    CHECK(t.misfired == 0);
}

namespace {

// Ticks every `step` from `from` to `to` and returns the fires of "dst".
std::vector<std::string> run_zone(const std::string& url, const char* expression, const char* from, const char* to) {
    PgSchema schema(url, "dst", "pgcron_");
    ManualClock clock(wall(from));
    auto a = open_leader(cron_options(schema, clock, "node-a"));
    auto s = txflow::test::every_second("dst");
    s.expression = expression;
    s.zone = "America/New_York";
    add(*a, s);
    REQUIRE(tick(*a).leader);
    while (clock.wall_now() < wall(to)) {
        clock.advance(20min);
        (void)tick(*a);
    }
    RawConn db(url);
    return fires_of(db, schema, "dst");
}

}  // namespace

TEST_CASE("cron leader: a zoned schedule inserts the right instants across DST changes", "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    // Spring forward (2026-03-08, 02:00 EST -> 03:00 EDT): 02:30 does not
    // exist that day; a wall-clock-fixed schedule fires at 03:00 EDT instead.
    CHECK(run_zone(*url, "0 30 2 * * *", "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z") ==
          std::vector<std::string>{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
    // Fall back (2026-11-01, 02:00 EDT -> 01:00 EST): 01:30 happens twice;
    // a fixed schedule fires at the first one only.
    CHECK(run_zone(*url, "0 30 1 * * *", "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z") ==
          std::vector<std::string>{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
    // An interval-like schedule fires at both real 01:30s.
    CHECK(run_zone(*url, "0 30 * * * *", "2026-11-01T04:00:00Z", "2026-11-01T07:00:00Z") ==
          std::vector<std::string>{"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"});
}

}  // namespace cron_leader_misfire_test
