// Policies running inside the scheduler, on a manual clock: retries wait on
// the timer, deadlines stop attempts, dead letters can be re-run.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/policy/policy.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace scheduler_policy_test {

using namespace std::chrono_literals;
using txflow::EventKind;
using txflow::JobContext;
using txflow::Outcome;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using EventRecorder = txflow::testing::EventLog;
using txflow::test::eventually;
using txflow::test::quiet_logger;
using txflow::test::wall;

namespace {

struct Fixture : txflow::testing::SchedulerFixture {
    Fixture() : SchedulerFixture({.scheduler = SchedulerOptions{}.workers(2).stuck_after(500ms)}) {}
};

}  // namespace

TEST_CASE_METHOD(Fixture, "retry waits on the timer with the exact backoff, then dead-letters",
                 "[scheduler][policy][retry]") {
    std::atomic<int> calls{0};
    scheduler()
        .job("flaky")
        .after(1s)
        .retry(txflow::retry::exponential(1s, 2.0, 1min).attempts(4))
        .run([&](JobContext&) {
            ++calls;
            throw std::runtime_error("upstream 503");
        });
    scheduler().start();
    advance(1s);
    CHECK(calls == 1);
    advance(900ms);
    CHECK(calls == 1);  // the 1 s backoff has not passed
    advance(100ms);
    CHECK(calls == 2);
    advance(2s);
    CHECK(calls == 3);
    advance(4s);
    CHECK(calls == 4);
    advance(60s);
    CHECK(calls == 4);  // attempts exhausted

    const auto retrying = event_log().of(EventKind::retrying);
    REQUIRE(retrying.size() == 3);
    CHECK(retrying[0].attempt == 2);
    CHECK(retrying[0].delay == 1s);
    CHECK(retrying[1].delay == 2s);
    CHECK(retrying[2].delay == 4s);
    const auto finished = event_log().of(EventKind::finished);
    REQUIRE(finished.size() == 4);
    for (std::uint32_t i = 0; i < 4; ++i) CHECK(finished[i].attempt == i + 1);

    auto letters = scheduler().dead_letters();
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].job == "flaky");
    CHECK(letters[0].attempts == 4);
    CHECK(letters[0].error == "upstream 503");
    CHECK(event_log().of(EventKind::dead_lettered).size() == 1);
    CHECK(scheduler().find("flaky")->info()->run_count == 1);  // one run, four attempts

    // Re-run from the dead-letter list: a fresh run with its own retries.
    CHECK(scheduler().rerun_dead_letter(letters[0].id));
    scheduler().wait_idle();
    CHECK(calls == 5);
    CHECK(scheduler().dead_letters().empty());
    CHECK_FALSE(scheduler().rerun_dead_letter(letters[0].id));
    advance(10s);
    CHECK(calls == 8);
    CHECK(scheduler().clear_dead_letters() == 1);
    CHECK(scheduler().dead_letters().empty());
}

TEST_CASE_METHOD(Fixture, "a retry succeeding ends the run as succeeded", "[scheduler][policy][retry]") {
    std::atomic<int> calls{0};
    scheduler().job("eventually").after(1s).retry(txflow::retry::fixed(500ms).attempts(5)).run([&](JobContext& ctx) {
        ++calls;
        if (ctx.attempt() < 3) throw std::runtime_error("not yet");
    });
    scheduler().start();
    advance(3s);
    CHECK(calls == 3);
    CHECK(scheduler().find("eventually")->info()->last_outcome == Outcome::succeeded);
    CHECK(scheduler().dead_letters().empty());
}

TEST_CASE_METHOD(Fixture, "a non-retryable failure goes straight to the dead letters", "[scheduler][policy][retry]") {
    std::atomic<int> calls{0};
    scheduler()
        .job("bad-input")
        .after(1s)
        .retry(txflow::retry::fixed(1s).attempts(5).retry_if([](const std::exception_ptr& ep) {
            try {
                std::rethrow_exception(ep);
            } catch (const std::invalid_argument&) {
                return false;
            } catch (...) {
                return true;
            }
        }))
        .run([&](JobContext&) {
            ++calls;
            throw std::invalid_argument("malformed order");
        });
    scheduler().start();
    advance(10s);
    CHECK(calls == 1);
    REQUIRE(scheduler().dead_letters().size() == 1);
    CHECK(scheduler().dead_letters()[0].error == "malformed order");
}

TEST_CASE_METHOD(Fixture, "timeout: a cooperative job stops at the deadline, a stubborn one is stuck",
                 "[scheduler][policy][timeout]") {
    std::atomic<bool> cooperative_started{false}, stubborn_started{false}, release{false};
    scheduler().job("cooperative").after(1s).timeout(2s).run([&](JobContext& ctx) {
        cooperative_started = true;
        while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
    });
    scheduler().job("stubborn").after(1s).timeout(2s).run([&](JobContext&) {
        stubborn_started = true;
        while (!release) std::this_thread::sleep_for(1ms);
    });
    scheduler().start();
    clock().advance(1s);
    while (!cooperative_started || !stubborn_started) std::this_thread::sleep_for(1ms);
    clock().advance(2s);  // both deadlines: stop requested
    // The cooperative job returns; the scheduler records a timeout.
    for (int i = 0; i < 2000 && scheduler().find("cooperative")->info()->last_outcome == Outcome::none; ++i)
        std::this_thread::sleep_for(1ms);
    CHECK(scheduler().find("cooperative")->info()->last_outcome == Outcome::timed_out);
    CHECK(scheduler().stuck_workers() == 0);
    clock().advance(600ms);  // past stuck_after: the stubborn one is stuck
    for (int i = 0; i < 2000 && scheduler().stuck_workers() == 0; ++i) std::this_thread::sleep_for(1ms);
    CHECK(scheduler().stuck_workers() == 1);
    CHECK(event_log().of(EventKind::stuck).size() == 1);
    release = true;
    scheduler().wait_idle();
    CHECK(scheduler().stuck_workers() == 0);
    CHECK(scheduler().find("stubborn")->info()->last_outcome == Outcome::timed_out);
}

TEST_CASE("timeout outside retry bounds the whole run, inside it each attempt", "[scheduler][policy][order]") {
    SECTION("outside: the 5 s budget covers all attempts") {
        // Each attempt fails at once; retries wait 2 s.
        Fixture f;
        std::atomic<int> calls{0};
        f.scheduler()
            .job("outer")
            .after(1s)
            .timeout(5s)
            .retry(txflow::retry::fixed(2s).attempts(10))
            .run([&](JobContext&) {
                ++calls;
                throw std::runtime_error("boom");
            });
        f.scheduler().start();
        f.advance(30s);
        // attempts start at 1 s, 3 s, 5 s; the one due at 7 s is past 1 s + 5 s
        CHECK(calls == 3);
        CHECK(f.scheduler().find("outer")->info()->last_outcome == Outcome::timed_out);
    }
    SECTION("inside: each attempt has its own 5 s") {
        // Each attempt takes 6 s of manual time (the job moves the clock),
        // then waits for the stop request its deadline brings, and returns:
        // only the timeout makes it a failure. Retries wait 2 s, so the
        // attempts start at 1 s, 9 s and 17 s.
        Fixture f;
        std::atomic<int> calls{0};
        std::atomic<int> stopped_by_deadline{0};
        f.scheduler()
            .job("inner")
            .after(1s)
            .retry(txflow::retry::fixed(2s).attempts(3))
            .timeout(5s)
            .run([&](JobContext& ctx) {
                ++calls;
                f.clock().advance(6s);
                if (eventually([&] { return ctx.stop_token().stop_requested(); })) ++stopped_by_deadline;
            });
        f.scheduler().start();
        f.advance(1s);
        CHECK(calls == 1);
        f.advance(1s);  // 8 s: the retry is due at 9 s
        CHECK(calls == 1);
        f.advance(1s);
        CHECK(calls == 2);
        f.advance(8s);
        CHECK(calls == 3);
        f.advance(30s);
        CHECK(calls == 3);
        CHECK(stopped_by_deadline == 3);
        std::vector<Outcome> outcomes;
        for (const auto& e : f.event_log().of(EventKind::finished)) outcomes.push_back(e.outcome);
        CHECK(outcomes == std::vector<Outcome>(3, Outcome::timed_out));
        CHECK(f.event_log().of(EventKind::retrying).size() == 2);
        REQUIRE(f.scheduler().dead_letters().size() == 1);
        CHECK(f.scheduler().dead_letters()[0].error == "timed out after 5s");
    }
    SECTION("outside, with the same slow attempt: the first one uses up the run's budget") {
        Fixture f;
        std::atomic<int> calls{0};
        f.scheduler()
            .job("outer")
            .after(1s)
            .timeout(5s)
            .retry(txflow::retry::fixed(2s).attempts(3))
            .run([&](JobContext& ctx) {
                ++calls;
                f.clock().advance(6s);
                (void)eventually([&] { return ctx.stop_token().stop_requested(); });
            });
        f.scheduler().start();
        f.advance(40s);
        CHECK(calls == 1);
        CHECK(f.scheduler().find("outer")->info()->last_outcome == Outcome::timed_out);
        CHECK(f.scheduler().find("outer")->info()->last_error == "run timed out after 5s");
    }
}

TEST_CASE("recover inside retry hides failures, outside it does not", "[scheduler][policy][order]") {
    SECTION("recover inside: no retry") {
        Fixture f;
        std::atomic<int> calls{0};
        f.scheduler().job("j").after(1s).retry(txflow::retry::fixed(1s).attempts(3)).recover().run([&](JobContext&) {
            ++calls;
            throw std::runtime_error("x");
        });
        f.scheduler().start();
        f.advance(10s);
        CHECK(calls == 1);
        CHECK(f.scheduler().find("j")->info()->last_outcome == Outcome::failed);
        CHECK(f.scheduler().find("j")->info()->last_error == "x");
    }
    SECTION("recover outside: retried") {
        Fixture f;
        std::atomic<int> calls{0};
        f.scheduler().job("j").after(1s).recover().retry(txflow::retry::fixed(1s).attempts(3)).run([&](JobContext&) {
            ++calls;
            throw std::runtime_error("x");
        });
        f.scheduler().start();
        f.advance(10s);
        CHECK(calls == 3);
    }
}

TEST_CASE_METHOD(Fixture, "skip_if_running skips a fire while the previous run goes on",
                 "[scheduler][policy][overlap]") {
    std::atomic<bool> release{false};
    std::atomic<int> calls{0};
    scheduler().job("long").every(1s).skip_if_running().run([&](JobContext&) {
        ++calls;
        while (!release) std::this_thread::sleep_for(1ms);
    });
    scheduler().start();
    clock().advance(1s);
    while (calls == 0) std::this_thread::sleep_for(1ms);
    clock().advance(1s);  // second fire while the first runs: skipped
    for (int i = 0; i < 2000 && event_log().of(EventKind::finished).empty(); ++i) std::this_thread::sleep_for(1ms);
    const auto finished = event_log().of(EventKind::finished);
    REQUIRE(finished.size() == 1);
    CHECK(finished[0].outcome == Outcome::skipped);
    release = true;
    scheduler().wait_idle();
    CHECK(calls == 1);
}

TEST_CASE_METHOD(Fixture, "a shared circuit breaker opens, fails fast, and reports its changes",
                 "[scheduler][policy][breaker]") {
    txflow::BreakerOptions options;
    options.window = 4;
    options.min_calls = 2;
    options.failure_rate = 0.5;
    options.open_for = 10s;
    options.half_open_probes = 1;
    std::atomic<int> a_calls{0}, b_calls{0}, fallback_calls{0};
    scheduler().job("a").every(1s).circuit_breaker("db", options).run([&](JobContext&) {
        ++a_calls;
        throw std::runtime_error("db down");
    });
    scheduler()
        .job("b")
        .every(1s)
        .circuit_breaker("db", options, [&](JobContext&) { ++fallback_calls; })
        .run([&](JobContext&) { ++b_calls; });
    scheduler().start();
    advance(5s);
    CHECK(scheduler().breaker("db")->state() == txflow::BreakerState::open);
    CHECK(a_calls + b_calls < 10);  // calls stopped once open
    CHECK(fallback_calls > 0);
    const auto changes = event_log().of(EventKind::breaker);
    REQUIRE_FALSE(changes.empty());
    CHECK(changes[0].job == "db");
    CHECK(changes[0].detail == "closed->open");
}

TEST_CASE_METHOD(Fixture, "rate_limit skips fires beyond the bucket", "[scheduler][policy][ratelimit]") {
    std::atomic<int> calls{0};
    scheduler().job("limited").every(100ms).rate_limit(1.0, 2.0).run([&](JobContext&) { ++calls; });
    scheduler().start();
    advance(3s);
    // Fires at 0.1 s, 0.2 s, ... 3.0 s; the bucket starts full (2) and refills
    // 1 a second: runs at 0.1 and 0.2 (burst), then 1.1 and 2.1.
    CHECK(calls == 4);
    CHECK(event_log().of(EventKind::finished).size() == 30);  // the other 26 ended as skipped
}

TEST_CASE("a queue's rate limit is shared by its jobs", "[scheduler][policy][ratelimit]") {
    txflow::testing::SchedulerFixture f({.scheduler = SchedulerOptions{}.workers(2).queue_rate_limit("api", 1.0, 1.0)});
    std::atomic<int> a{0}, b{0}, other{0};
    f.scheduler().job("a").every(1s).queue("api").run([&](JobContext&) { ++a; });
    f.scheduler().job("b").every(1s).queue("api").run([&](JobContext&) { ++b; });
    f.scheduler().job("other").every(1s).run([&](JobContext&) { ++other; });
    f.advance(10s);
    CHECK(other == 10);
    CHECK(a + b == 10);  // one token a second between the two
}

TEST_CASE("retry events of a run arrive in attempt order under load, with a listener calling back",
          "[scheduler][policy][stress]") {
    // Real clock, zero backoff, one-shot jobs failing on every attempt: the
    // attempts of 64 runs race through the workers. Per run, listeners must
    // see retrying 2, 3, 4 in that order, then its dead letter.
    struct CallingBack : txflow::Listener {
        Scheduler* sched = nullptr;
        void on_event(const txflow::Event& e) override {
            if (e.kind == EventKind::dead_lettered && sched != nullptr) (void)sched->jobs();  // re-enters the scheduler
        }
    };
    auto events = std::make_shared<EventRecorder>();
    auto calling_back = std::make_shared<CallingBack>();
    Scheduler sched{SchedulerOptions{}.logger(quiet_logger()).workers(4).listener(events).listener(calling_back)};
    calling_back->sched = &sched;
    constexpr int kRuns = 64;
    for (int j = 0; j < kRuns; ++j) {
        sched.job("flaky-" + std::to_string(j))
            .after(std::chrono::milliseconds(j % 8))
            .retry(txflow::retry::fixed(0ms).attempts(4))
            .run([](JobContext&) { throw std::runtime_error("down"); });
    }
    sched.start();
    REQUIRE(txflow::test::eventually([&] { return sched.dead_letters().size() == kRuns; }));
    sched.wait_idle();

    std::map<std::string, std::vector<std::uint32_t>> per_run;  // 0: the dead letter
    for (const auto& row : events->all()) {
        if (row.kind == EventKind::retrying) per_run[row.job].push_back(row.attempt);
        if (row.kind == EventKind::dead_lettered) per_run[row.job].push_back(0);
    }
    REQUIRE(per_run.size() == kRuns);
    for (const auto& [job, seen] : per_run) {
        INFO(job);
        CHECK(seen == std::vector<std::uint32_t>{2, 3, 4, 0});
    }
}

}  // namespace scheduler_policy_test
