// The cron leader on a real PostgreSQL: one leader at a time, take-over with
// a new epoch after a lapse, stepping down when the lease cannot be renewed
// or the connection is lost, two leaders at once, and bad input.

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cron_leader_util.hpp"

namespace cron_leader_test {

using namespace std::chrono_literals;
using txflow::ManualClock;
using txflow::Misfire;
using txflow::cluster::CronLeader;
using txflow::test::add;
using txflow::test::cron_options;
using txflow::test::eventually;
using txflow::test::fires_of;
using txflow::test::open_leader;
using txflow::test::PgSchema;
using txflow::test::RawConn;
using txflow::test::tick;
using txflow::test::wall;

namespace {

constexpr const char* kT0 = "2026-12-07T10:00:00Z";

std::vector<std::string> seconds_after(const char* start, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) out.push_back(txflow::test::iso(wall(start) + std::chrono::seconds(i)));
    return out;
}

}  // namespace

TEST_CASE("cron leader: one node leads; its fires come with their jobs, the other node inserts nothing",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "one", "pgcron_");
    ManualClock clock(wall(kT0));
    auto a = open_leader(cron_options(schema, clock, "node-a"));
    auto b = open_leader(cron_options(schema, clock, "node-b"));
    auto s = txflow::test::every_second("beat");
    s.job.options.queue = "cron";
    s.job.options.priority = -2;
    s.job.options.max_attempts = 3;
    add(*a, s);
    add(*b, s);

    CHECK(tick(*a).leader);
    CHECK(a->is_leader());
    CHECK(a->epoch() == 1);
    CHECK_FALSE(tick(*b).leader);
    CHECK_FALSE(b->is_leader());

    clock.advance(3s);
    CHECK(tick(*b).inserted == 0);
    const auto t = tick(*a);
    CHECK(t.inserted == 3);
    CHECK(t.misfired == 0);
    RawConn db(*url);
    CHECK(fires_of(db, schema, "beat") == seconds_after(kT0, 1, 3));
    txflow::test::check_one_job_per_fire(db, schema);
    CHECK(db.exec("SELECT count(*) FROM " + schema.table("txflow_jobs") +
                  " WHERE kind = 'tick' AND queue = 'cron' AND priority = -2 AND max_attempts = 3 AND "
                  "payload = 'p' AND state = 'available'") == "3");
    CHECK(db.exec("SELECT count(*) FROM " + schema.table("txflow_cron_fires") +
                  " WHERE leader_node = 'node-a' AND epoch = 1") == "3");
    // The jobs are claimable at once.
    auto q = txflow::test::open_pg_queue(schema);
    auto claimed = q->claim("cron", 10, 30s);
    REQUIRE(claimed);
    CHECK(claimed->size() == 3);
}

TEST_CASE("cron leader: after the leader's lease lapses another node takes over with epoch + 1, no gap, no duplicate",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "lapse", "pgcron_");
    ManualClock clock(wall(kT0));
    auto options = [&](std::string node) {
        auto o = cron_options(schema, clock, std::move(node));
        o.lease = 1500ms;
        return o;
    };
    auto a = open_leader(options("node-a"));
    auto b = open_leader(options("node-b"));
    add(*a, txflow::test::every_second("beat"));
    add(*b, txflow::test::every_second("beat"));
    REQUIRE(tick(*a).leader);
    clock.advance(2s);
    CHECK(tick(*a).inserted == 2);

    // node-a stalls (a paused VM); time goes on and node-b takes over.
    clock.advance(2s);
    std::uint64_t inserted_by_b = 0;
    REQUIRE(eventually(
        [&] {
            auto t = b->tick();
            if (t) inserted_by_b += t->inserted;
            return t && t->leader;
        },
        10s));
    const auto b_epoch = b->epoch();
    CHECK(b_epoch == a->epoch() + 1);
    CHECK(inserted_by_b == 2);
    CHECK_FALSE(a->is_leader());  // its own view: the lease may have lapsed

    // node-a wakes up: it must not insert anything, and finds it no longer leads.
    const auto woke = tick(*a);
    CHECK_FALSE(woke.leader);
    CHECK(woke.inserted == 0);
    clock.advance(1s);
    CHECK(tick(*b).inserted == 1);

    RawConn db(*url);
    CHECK(fires_of(db, schema, "beat") == seconds_after(kT0, 1, 5));
    txflow::test::check_one_job_per_fire(db, schema);
    CHECK(db.exec("SELECT count(*) FROM " + schema.table("txflow_cron_fires") +
                  " WHERE leader_node = 'node-b' AND epoch >= " + std::to_string(b_epoch)) == "3");
    CHECK(db.exec("SELECT node FROM " + schema.table("txflow_leader")) == "node-b");
}

TEST_CASE("cron leader: a lease taken over unnoticed fences the old leader's fires off", "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "fence", "pgcron_");
    ManualClock clock(wall(kT0));
    auto o = cron_options(schema, clock, "node-a");
    o.lease = 60s;  // no renewal during the test: only the fence in the fires' transaction can notice
    auto a = open_leader(o);
    add(*a, txflow::test::every_second("beat"));
    REQUIRE(tick(*a).leader);
    clock.advance(1s);
    CHECK(tick(*a).inserted == 1);

    RawConn db(*url);
    db.exec("UPDATE " + schema.table("txflow_leader") + " SET node = 'node-x', epoch = epoch + 1");
    clock.advance(1s);
    const auto t = tick(*a);
    CHECK(t.inserted == 0);
    CHECK_FALSE(t.leader);
    CHECK_FALSE(a->is_leader());
    CHECK(fires_of(db, schema, "beat") == seconds_after(kT0, 1, 1));
}

TEST_CASE("cron leader: a leader that cannot renew steps down before its lease may lapse, then leads again",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "renew", "pgcron_");
    ManualClock clock(wall(kT0));
    auto o = cron_options(schema, clock, "node-a");
    o.lease = 1s;
    o.renew_every = 100ms;
    o.statement_timeout = 100ms;
    auto a = open_leader(o);
    add(*a, txflow::test::every_second("beat"));
    REQUIRE(tick(*a).leader);
    const auto first_epoch = a->epoch();

    // Another session holds the lease row: renewals (and the fires' lease
    // check) time out.
    RawConn blocker(*url);
    blocker.exec("BEGIN");
    blocker.exec("SELECT * FROM " + schema.table("txflow_leader") + " FOR UPDATE");
    std::uint64_t inserted = 0;
    std::string error;
    REQUIRE(eventually(
        [&] {
            clock.advance(1s);
            auto t = a->tick();
            if (t) inserted += t->inserted;
            else error = t.error().message;
            return !a->is_leader();
        },
        10s, 10ms));
    CHECK(inserted == 0);
    CHECK_THAT(error, Catch::Contains("statement timeout") || Catch::Contains("canceling statement"));
    RawConn db(*url);
    CHECK(db.exec("SELECT count(*) FROM " + schema.table("txflow_cron_fires")) == "0");

    blocker.exec("ROLLBACK");
    REQUIRE(eventually(
        [&] {
            auto t = a->tick();
            if (t) inserted += t->inserted;
            return t && t->leader;
        },
        10s, 10ms));
    CHECK(a->epoch() == first_epoch + 1);
    const auto fires = fires_of(db, schema, "beat");
    CHECK(fires.size() == inserted);
    CHECK(fires == seconds_after(kT0, 1, static_cast<int>(fires.size())));  // caught up, no gap
    txflow::test::check_one_job_per_fire(db, schema);
}

TEST_CASE("cron leader: a lost connection ends the term at once; the node reconnects and leads again, no fire lost",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "lost", "pgcron_");
    ManualClock clock(wall(kT0));
    const std::string app = schema.name();  // tells this test's connection apart from everyone else's
    auto o = cron_options(schema, clock, "node-a");
    o.pg.url = *url + (url->find('?') == std::string::npos ? "?" : "&") + "application_name=" + app;
    o.reconnect_min = 20ms;
    auto a = open_leader(o);
    add(*a, txflow::test::every_second("beat"));
    REQUIRE(tick(*a).leader);
    clock.advance(1s);
    CHECK(tick(*a).inserted == 1);

    RawConn db(*url);
    CHECK(db.exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" + app +
                  "'") == "1");
    clock.advance(1s);
    auto failed = a->tick();
    REQUIRE_FALSE(failed);
    CHECK_THAT(failed.error().message, Catch::Contains("PostgreSQL"));
    CHECK_FALSE(a->is_leader());

    REQUIRE(eventually(
        [&] {
            auto t = a->tick();
            return t && t->leader;
        },
        10s, 10ms));
    CHECK(a->epoch() == 2);  // its own lease, taken again as a new term
    CHECK(fires_of(db, schema, "beat") == seconds_after(kT0, 1, 2));
    txflow::test::check_one_job_per_fire(db, schema);
}

TEST_CASE("cron leader: two leaders at once (lease bypassed) still give each fire one row and one job",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "two", "pgcron_");
    ManualClock clock(wall(kT0));
    std::vector<std::unique_ptr<CronLeader>> leaders;
    for (const char* node : {"node-a", "node-b"}) {
        leaders.push_back(open_leader(cron_options(schema, clock, node)));
        add(*leaders.back(), txflow::test::every_second("beat"));
        leaders.back()->set_bypass_lease_for_testing(true);
    }
    REQUIRE(tick(*leaders[0]).leader);  // the schedule counts from here

    constexpr int kSeconds = 30;
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> ticks{0};
    std::vector<std::uint64_t> inserted(leaders.size(), 0);
    std::vector<std::string> errors(leaders.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < leaders.size(); ++i) {
        threads.emplace_back([&, i] {
            while (!done.load()) {
                auto t = leaders[i]->tick();
                if (t) inserted[i] += t->inserted;
                else errors[i] = t.error().message;
                ++ticks;
            }
        });
    }
    for (int s = 0; s < kSeconds; ++s) {
        clock.advance(1s);
        const auto seen = ticks.load();
        eventually([&] { return ticks.load() >= seen + 4; }, 5s);  // both had a go at this second
    }
    done = true;
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e.empty());
    CHECK(inserted[0] + inserted[1] <= static_cast<std::uint64_t>(kSeconds));
    for (auto& l : leaders) (void)l->tick();  // whatever the last second left

    RawConn db(*url);
    CHECK(fires_of(db, schema, "beat") == seconds_after(kT0, 1, kSeconds));
    txflow::test::check_one_job_per_fire(db, schema);
    CHECK(db.exec("SELECT count(DISTINCT unique_key) FROM " + schema.table("txflow_jobs")) == std::to_string(kSeconds));
}

TEST_CASE("cron leader: a state row set back finds its fires in the table: no second fire, no second job",
          "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "rewind", "pgcron_");
    ManualClock clock(wall(kT0));
    auto a = open_leader(cron_options(schema, clock, "node-a"));
    add(*a, txflow::test::every_second("beat"));
    REQUIRE(tick(*a).leader);
    clock.advance(3s);
    CHECK(tick(*a).inserted == 3);
    REQUIRE(a->resign());
    a.reset();

    RawConn db(*url);
    const auto state = schema.table("txflow_cron_schedules");
    db.exec("UPDATE " + state + " SET last_fire = NULL");  // back to `since`: the three fires are due again
    SECTION("the fire rows are there: ON CONFLICT keeps them single") {
        auto b = open_leader(cron_options(schema, clock, "node-b"));
        add(*b, txflow::test::every_second("beat"));
        const auto t = tick(*b);
        CHECK(t.inserted == 0);
        CHECK(t.duplicate == 3);
    }
    SECTION("the fire rows were deleted (retention) but the jobs remain: the fires point at the same jobs") {
        db.exec("DELETE FROM " + schema.table("txflow_cron_fires"));
        auto b = open_leader(cron_options(schema, clock, "node-b"));
        add(*b, txflow::test::every_second("beat"));
        const auto t = tick(*b);
        CHECK(t.inserted == 3);
        CHECK(t.duplicate == 0);
    }
    CHECK(fires_of(db, schema, "beat") == seconds_after(kT0, 1, 3));
    txflow::test::check_one_job_per_fire(db, schema);
    CHECK(db.exec("SELECT count(*) FROM " + schema.table("txflow_jobs")) == "3");
}

TEST_CASE("cron leader: start() ticks on its own thread; stop() gives the lease up", "[pg][cron_leader]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "thread", "pgcron_");
    ManualClock clock(wall(kT0));
    auto o = cron_options(schema, clock, "node-a");
    o.poll = 20ms;
    auto a = open_leader(o);
    add(*a, txflow::test::every_second("beat"));
    a->start();
    REQUIRE(eventually([&] { return a->is_leader(); }));
    RawConn db(*url);
    const auto count = [&] { return db.exec("SELECT count(*) FROM " + schema.table("txflow_cron_fires")); };
    for (int i = 1; i <= 3; ++i) {
        clock.advance(1s);
        REQUIRE(eventually([&] { return count() == std::to_string(i); }));
    }
    CHECK(a->stop(5s));
    CHECK_FALSE(a->is_leader());
    CHECK(db.exec("SELECT lease_until <= clock_timestamp() FROM " + schema.table("txflow_leader")) == "t");
    // Another node takes over at once.
    auto b = open_leader(cron_options(schema, clock, "node-b"));
    CHECK(tick(*b).leader);
    CHECK(b->epoch() == 2);
}

TEST_CASE("cron leader: bad input is refused with where and why", "[pg][cron_leader]") {
    ManualClock clock(wall(kT0));
    SECTION("options and the server, before any schedule") {
        txflow::cluster::CronLeaderOptions o;
        o.pg.url = "postgresql://postgres@127.0.0.1:1/postgres";
        o.clock = &clock;
        o.lease = 10ms;
        auto short_lease = CronLeader::open(o);
        REQUIRE_FALSE(short_lease);
        CHECK_THAT(short_lease.error().message, Catch::Contains("lease must be at least 100 ms"));
        o.lease = 1s;
        o.renew_every = 2s;
        auto renew = CronLeader::open(o);
        REQUIRE_FALSE(renew);
        CHECK_THAT(renew.error().message, Catch::Contains("renew_every"));
        o.renew_every = 0ms;
        o.pg.schema = "Bad-Name";
        auto bad_schema = CronLeader::open(o);
        REQUIRE_FALSE(bad_schema);
        CHECK_THAT(bad_schema.error().message, Catch::Contains("bad schema name"));
        o.pg.schema = "pgcron_unreachable";
        auto down = CronLeader::open(o);
        REQUIRE_FALSE(down);
        CHECK(down.error().code == txflow::store::StoreError::Code::io);
        CHECK_THAT(down.error().message, Catch::Contains("cannot connect to 127.0.0.1:1"));
    }
    SECTION("schedules") {
        auto url = txflow::test::pg_url();
        if (!url) return;
        PgSchema schema(*url, "bad", "pgcron_");
        auto a = open_leader(cron_options(schema, clock, "node-a"));
        const auto refused = [&](txflow::cluster::CronSchedule s) {
            auto r = a->add(std::move(s));
            REQUIRE_FALSE(r);
            CHECK(r.error().code == txflow::store::StoreError::Code::invalid);
            return r.error().message;
        };
        auto s = txflow::test::every_second("beat");
        s.expression = "0 25 * * *";
        CHECK_THAT(refused(s), Catch::Contains("cron schedule \"beat\": bad expression \"0 25 * * *\": hour") &&
                                   Catch::Contains("25 is out of range 0-23"));
        s = txflow::test::every_second("beat");
        s.zone = "Mars/Olympus";
        CHECK_THAT(refused(s), Catch::Contains("unknown time zone \"Mars/Olympus\""));
        s = txflow::test::every_second("beat");
        s.job.kind.clear();
        CHECK_THAT(refused(s), Catch::Contains("needs a kind"));
        s = txflow::test::every_second("beat");
        s.job.options.unique_key = "mine";
        CHECK_THAT(refused(s), Catch::Contains("unique_key is the leader's"));
        s = txflow::test::every_second("");
        CHECK_THAT(refused(s), Catch::Contains("needs a name"));
        add(*a, txflow::test::every_second("beat"));
        CHECK_THAT(refused(txflow::test::every_second("beat")), Catch::Contains("added twice"));
    }
}

}  // namespace cron_leader_test
