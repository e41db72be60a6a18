// Four cron leaders on four threads over a 1-second schedule, the clock
// moving on: leaders resign at random (so terms change hands all the time),
// or all four bypass the lease and insert at once. Every second must end up
// with exactly one fire and one job: no duplicate, no gap. Run under TSan too.

#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cron_leader_util.hpp"

namespace cron_leader_stress_test {

using namespace std::chrono_literals;
using txflow::ManualClock;
using txflow::cluster::CronLeader;
using txflow::test::cron_options;
using txflow::test::open_leader;
using txflow::test::PgSchema;
using txflow::test::RawConn;
using txflow::test::wall;

TEST_CASE("cron leader stress: four leaders, changing terms or all at once: every second exactly once",
          "[pg][cron_leader][stress]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    const bool all_at_once = GENERATE(false, true);
    PgSchema schema(*url, all_at_once ? "stress_bypass" : "stress_terms", "pgcron_");
    ManualClock clock(wall("2026-12-07T10:00:00Z"));
    constexpr std::size_t kLeaders = 4;
    constexpr int kSteps = 120;  // 250 ms each: 30 seconds of fires
    std::vector<std::unique_ptr<CronLeader>> leaders;
    for (std::size_t i = 0; i < kLeaders; ++i) {
        auto o = cron_options(schema, clock, "node-" + std::to_string(i));
        o.lease = 500ms;
        leaders.push_back(open_leader(o));
        txflow::test::add(*leaders.back(), txflow::test::every_second("beat", txflow::Misfire::fire_all(1000)));
        txflow::test::add(*leaders.back(), txflow::test::every_second("beat2", txflow::Misfire::fire_all(1000)));
        if (all_at_once) leaders.back()->set_bypass_lease_for_testing(true);
    }
    REQUIRE(txflow::test::tick(*leaders[0]).leader);  // the schedules count from here

    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> ticks{0};
    std::vector<std::uint64_t> inserted(kLeaders, 0);
    std::vector<std::uint64_t> terms(kLeaders, 0);
    std::vector<std::string> errors(kLeaders);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < kLeaders; ++i) {
        threads.emplace_back([&, i] {
            std::mt19937 random(static_cast<unsigned>(i + 1));
            std::int64_t last_epoch = 0;
            while (!done.load()) {
                auto t = leaders[i]->tick();
                if (!t) errors[i] = t.error().message;
                else inserted[i] += t->inserted;
                if (t && t->leader && leaders[i]->epoch() != last_epoch) {
                    last_epoch = leaders[i]->epoch();
                    ++terms[i];
                }
                if (!all_at_once && random() % 8 == 0) {
                    if (auto r = leaders[i]->resign(); !r) errors[i] = r.error().message;
                }
                ++ticks;
            }
        });
    }
    for (int s = 0; s < kSteps; ++s) {
        clock.advance(250ms);
        const auto seen = ticks.load();
        (void)txflow::test::eventually([&] { return ticks.load() >= seen + kLeaders; }, 5s);
    }
    done = true;
    for (auto& t : threads) t.join();
    for (const auto& e : errors) {
        INFO(e);
        CHECK(e.empty());
    }
    std::uint64_t total_terms = 0;
    for (auto n : terms) total_terms += n;
    if (!all_at_once) CHECK(total_terms > 2);  // leadership did change hands

    // Whoever leads next catches up with what the last step left.
    for (auto& l : leaders) l->set_bypass_lease_for_testing(false);
    REQUIRE(txflow::test::eventually([&] {
        for (auto& l : leaders) {
            if (auto t = l->tick(); t && t->leader) return true;
        }
        return false;
    }));
    RawConn db(*url);
    std::vector<std::string> expected;
    for (int i = 1; i <= kSteps / 4; ++i)
        expected.push_back(txflow::test::iso(wall("2026-12-07T10:00:00Z") + std::chrono::seconds(i)));
    CHECK(txflow::test::fires_of(db, schema, "beat") == expected);
    CHECK(txflow::test::fires_of(db, schema, "beat2") == expected);
    txflow::test::check_one_job_per_fire(db, schema);
    CHECK(db.exec("SELECT count(DISTINCT unique_key) FROM " + schema.table("txflow_jobs")) ==
          std::to_string(2 * expected.size()));
}

}  // namespace cron_leader_stress_test
