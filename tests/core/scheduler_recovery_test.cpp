// What a scheduler picks up from its store after a restart: cron jobs' last
// fires (missed fires meet the misfire policy), retries that were waiting,
// dead letters. Two schedulers share one MemoryStore and one manual clock;
// the first one's destruction is the "crash".
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::ManualClock;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::test_support::quiet_logger;
using txflow::test_support::wall;
using Runs = txflow::test_support::RunRecorder;

namespace {

struct Fixture {
    ManualClock clock{wall("2026-01-01T00:00:00Z")};
    std::shared_ptr<txflow::store::MemoryStore> store = std::make_shared<txflow::store::MemoryStore>();
    SchedulerOptions options() {
        return SchedulerOptions{}.workers(2).clock(clock).logger(quiet_logger()).store(store).seed(7);
    }
};

}  // namespace

TEST_CASE("cron fires missed while down go through the misfire policy, from the last recorded fire",
          "[scheduler][recovery]") {
    Fixture f;
    {
        Runs before;
        Scheduler first(f.options());
        first.job("tick").cron("*/10 * * * * *").run([&](JobContext& ctx) { before.add(ctx); });
        first.start();
        for (int i = 0; i < 3; ++i) {  // fires at :10, :20, :30
            f.clock.advance(10s);
            first.wait_idle();
        }
        CHECK(before.sorted_isos() ==
              std::vector<std::string>{"2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z", "2026-01-01T00:00:30Z"});
    }
    f.clock.advance(45s);  // down from :30 to 1:15: missed :40 :50 1:00 1:10

    SECTION("fire_all(cap) runs each missed fire, up to the cap") {
        Runs after;
        Scheduler second(f.options());
        second.job("tick").cron("*/10 * * * * *").misfire(txflow::Misfire::fire_all(3)).run([&](JobContext& ctx) {
            after.add(ctx);
        });
        second.start();
        second.wait_idle();
        CHECK(after.sorted_isos() ==
              std::vector<std::string>{"2026-01-01T00:00:40Z", "2026-01-01T00:00:50Z", "2026-01-01T00:01:00Z"});
        f.clock.advance(5s);  // the next regular fire, 1:20
        second.wait_idle();
        CHECK(after.sorted_isos().back() == "2026-01-01T00:01:20Z");
    }
    SECTION("fire_once runs the latest missed fire once") {
        Runs after;
        Scheduler second(f.options());
        second.job("tick").cron("*/10 * * * * *").misfire(txflow::Misfire::fire_once()).run([&](JobContext& ctx) {
            after.add(ctx);
        });
        second.start();
        second.wait_idle();
        CHECK(after.sorted_isos() == std::vector<std::string>{"2026-01-01T00:01:10Z"});
    }
    SECTION("skip runs none of them") {
        Runs after;
        Scheduler second(f.options());
        second.job("tick").cron("*/10 * * * * *").misfire(txflow::Misfire::skip()).run([&](JobContext& ctx) {
            after.add(ctx);
        });
        second.start();
        second.wait_idle();
        CHECK(after.sorted_isos().empty());
        f.clock.advance(5s);
        second.wait_idle();
        CHECK(after.sorted_isos() == std::vector<std::string>{"2026-01-01T00:01:20Z"});
    }
    SECTION("a job that is not registered again keeps its record for later") {
        Scheduler second(f.options());
        second.start();
        second.wait_idle();
        CHECK(second.jobs().empty());
    }
}

TEST_CASE("a retry waiting at shutdown is re-armed after the restart, as the same attempt", "[scheduler][recovery]") {
    Fixture f;
    {
        Scheduler first(f.options());
        first.job("flaky").after(1s).retry(txflow::retry::fixed(1min).attempts(3)).run([](JobContext&) {
            throw std::runtime_error("down");
        });
        first.start();
        f.clock.advance(1s);  // attempt 1 fails; attempt 2 is due at 1:01
        first.wait_idle();
        first.stop(0ms);
    }
    f.clock.advance(20s);
    Runs after;
    Scheduler second(f.options());
    second.job("flaky").after(1h).retry(txflow::retry::fixed(1min).attempts(3)).run([&](JobContext& ctx) {
        after.add(ctx);
    });
    second.start();
    second.wait_idle();
    CHECK(after.sorted_isos().empty());  // not due yet: 40 s to go
    f.clock.advance(40s);
    second.wait_idle();
    REQUIRE(after.sorted_isos() == std::vector<std::string>{"2026-01-01T00:00:01Z"});  // the original fire
    CHECK(after.attempts() == std::vector<std::uint32_t>{2});
}

TEST_CASE("dead letters survive a restart, and removing one is remembered", "[scheduler][recovery]") {
    Fixture f;
    {
        Scheduler first(f.options());
        first.job("doomed").after(1s).retry(txflow::retry::fixed(1s).attempts(1)).run([](JobContext&) {
            throw std::runtime_error("bad input");
        });
        first.job("doomed2").after(1s).retry(txflow::retry::fixed(1s).attempts(1)).run([](JobContext&) {
            throw std::runtime_error("worse input");
        });
        first.start();
        f.clock.advance(1s);
        first.wait_idle();
        REQUIRE(first.dead_letters().size() == 2);
    }
    std::uint64_t kept = 0;
    {
        Scheduler second(f.options());
        auto letters = second.dead_letters();
        REQUIRE(letters.size() == 2);
        std::set<std::string> errors{letters[0].error, letters[1].error};
        CHECK(errors == std::set<std::string>{"bad input", "worse input"});
        CHECK(letters[0].scheduled == wall("2026-01-01T00:00:01Z"));
        CHECK(letters[0].attempts == 1);
        second.job("doomed").after(1h).run([](JobContext&) {});
        second.start();
        const auto doomed = std::find_if(letters.begin(), letters.end(), [](auto& d) { return d.job == "doomed"; });
        kept = std::find_if(letters.begin(), letters.end(), [](auto& d) { return d.job == "doomed2"; })->id;
        REQUIRE(second.rerun_dead_letter(doomed->id));
        second.wait_idle();
    }
    Scheduler third(f.options());
    auto letters = third.dead_letters();
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].id == kept);
    CHECK(third.clear_dead_letters() == 1);
}

TEST_CASE("an at job that fired before the restart does not fire again", "[scheduler][recovery]") {
    Fixture f;
    const auto when = wall("2026-01-01T00:00:05Z");
    {
        Runs before;
        Scheduler first(f.options());
        first.job("once").at(when).run([&](JobContext& ctx) { before.add(ctx); });
        first.start();
        f.clock.advance(5s);
        first.wait_idle();
        REQUIRE(before.sorted_isos() == std::vector<std::string>{"2026-01-01T00:00:05Z"});
    }
    f.clock.advance(10s);
    Runs after;
    Scheduler second(f.options());
    second.job("once").at(when).run([&](JobContext& ctx) { after.add(ctx); });
    second.start();
    second.wait_idle();
    f.clock.advance(10s);
    second.wait_idle();
    CHECK(after.sorted_isos().empty());
}
