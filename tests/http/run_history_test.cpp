// RunHistory on its own, fed events by hand on a manual clock: the bounded
// ring, matching finishes to starts, lateness, trace ids, the last hour's
// counts, forget, and many threads writing while others read.

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/core/clock.hpp"
#include "txflow/http/run_history.hpp"

namespace run_history_test {

using namespace std::chrono_literals;
using txflow::Event;
using txflow::EventKind;
using txflow::Outcome;
using txflow::http::RunHistory;
using txflow::test::wall;

namespace {

Event run_event(EventKind kind, std::string_view job, txflow::WallTime fire, std::uint32_t attempt = 1) {
    Event e;
    e.kind = kind;
    e.job = job;
    e.fire_time = fire;
    e.attempt = attempt;
    return e;
}

Event finished(std::string_view job, txflow::WallTime fire, Outcome outcome, std::string_view error = {},
               std::uint32_t attempt = 1) {
    Event e = run_event(EventKind::finished, job, fire, attempt);
    e.outcome = outcome;
    e.error = error;
    e.duration = 40ms;
    return e;
}

}  // namespace

TEST_CASE("RunHistory keeps the newest runs of each job, newest first", "[http][run_history]") {
    txflow::ManualClock clock(wall("2026-12-08T10:00:00Z"));
    RunHistory history(3, &clock);
    const auto t0 = wall("2026-12-08T10:00:00Z");
    for (int i = 0; i < 5; ++i) {
        const auto fire = t0 + std::chrono::seconds(i);
        history.on_event(run_event(EventKind::started, "a", fire));
        clock.advance(1s);
        history.on_event(finished("a", fire, Outcome::succeeded));
    }
    history.on_event(run_event(EventKind::started, "b", t0));

    const auto runs = history.runs("a");
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].fire_time == t0 + 4s);
    CHECK(runs[1].fire_time == t0 + 3s);
    CHECK(runs[2].fire_time == t0 + 2s);
    CHECK(runs[0].job == "a");
    CHECK(runs[0].outcome == Outcome::succeeded);
    CHECK(runs[0].duration == 40ms);
    CHECK(history.runs("a", 1).size() == 1);
    REQUIRE(history.runs("b").size() == 1);
    CHECK(history.runs("b")[0].outcome == Outcome::none);
    CHECK(history.runs("nobody").empty());
}

TEST_CASE("RunHistory matches a finish to its start by fire time and attempt", "[http][run_history]") {
    const auto t0 = wall("2026-12-08T10:00:00Z");
    txflow::ManualClock clock(t0 + 250ms);
    RunHistory history(10, &clock);
    history.on_event(run_event(EventKind::started, "a", t0));               // attempt 1 of t0, 250 ms late
    history.on_event(run_event(EventKind::started, "a", t0 + 1s));          // another run, overlapping
    history.on_event(finished("a", t0, Outcome::failed, "boom"));           // ends the first
    history.on_event(run_event(EventKind::started, "a", t0, 2));            // its retry
    history.on_event(finished("a", t0 + 5s, Outcome::skipped, "overlap"));  // a finish without a start

    const auto runs = history.runs("a");
    REQUIRE(runs.size() == 4);
    CHECK(runs[0].fire_time == t0 + 5s);
    CHECK(runs[0].outcome == Outcome::skipped);
    CHECK(runs[0].error == "overlap");
    CHECK(runs[1].attempt == 2);
    CHECK(runs[1].outcome == Outcome::none);
    CHECK(runs[2].fire_time == t0 + 1s);
    CHECK(runs[2].outcome == Outcome::none);
    CHECK(runs[3].fire_time == t0);
    CHECK(runs[3].outcome == Outcome::failed);
    CHECK(runs[3].error == "boom");
    CHECK(runs[3].lateness == 250ms);
    CHECK(runs[2].lateness == 0ms);  // started before its fire time: never negative
}

TEST_CASE("RunHistory reuses slots without leaking an old run's error or trace", "[http][run_history]") {
    const auto t0 = wall("2026-12-08T10:00:00Z");
    txflow::ManualClock clock(t0);
    RunHistory history(1, &clock);
    Event start = run_event(EventKind::started, "a", t0);
    start.trace_id[0] = 0xab;
    start.span_id[7] = 0x01;
    history.on_event(start);
    history.on_event(finished("a", t0, Outcome::failed, "a long error text that does not fit in a small string"));
    REQUIRE(history.runs("a").size() == 1);
    CHECK(history.runs("a")[0].trace_id == "ab000000000000000000000000000000");
    CHECK(history.runs("a")[0].span_id == "0000000000000001");

    history.on_event(run_event(EventKind::started, "a", t0 + 1s));
    history.on_event(finished("a", t0 + 1s, Outcome::succeeded));
    const auto runs = history.runs("a");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].fire_time == t0 + 1s);
    CHECK(runs[0].error.empty());
    CHECK(runs[0].trace_id.empty());
    CHECK(runs[0].span_id.empty());
}

TEST_CASE("RunHistory counts finished and failed runs per minute over the last hour", "[http][run_history]") {
    const auto t0 = wall("2026-12-08T10:00:00Z");
    txflow::ManualClock clock(t0);
    RunHistory history(50, &clock);
    history.on_event(run_event(EventKind::started, "a", t0));
    history.on_event(finished("a", t0, Outcome::succeeded));
    history.on_event(run_event(EventKind::started, "a", t0));
    history.on_event(finished("a", t0, Outcome::timed_out));
    clock.advance(2min);
    history.on_event(run_event(EventKind::started, "b", t0 + 2min));
    history.on_event(finished("b", t0 + 2min, Outcome::failed, "x"));

    const auto hour = history.last_hour();
    REQUIRE(hour.size() == 60);
    const std::int64_t now_minute =
        std::chrono::floor<std::chrono::minutes>(clock.wall_now()).time_since_epoch().count();
    CHECK(hour.back().minute == now_minute);
    CHECK(hour.back().finished == 1);
    CHECK(hour.back().failed == 1);
    CHECK(hour[57].minute == now_minute - 2);
    CHECK(hour[57].finished == 2);
    CHECK(hour[57].failed == 1);
    CHECK(hour[58].finished == 0);
}

TEST_CASE("RunHistory lists recent runs of every job, forgets a job, and keeps breakers", "[http][run_history]") {
    const auto t0 = wall("2026-12-08T10:00:00Z");
    txflow::ManualClock clock(t0);
    RunHistory history(50, &clock);
    history.on_event(run_event(EventKind::started, "b", t0));
    clock.advance(1s);
    history.on_event(run_event(EventKind::started, "a", t0));
    Event breaker;
    breaker.kind = EventKind::breaker;
    breaker.job = "payments";
    history.on_event(breaker);

    const auto recent = history.recent(t0);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].job == "b");  // oldest first
    CHECK(recent[1].job == "a");
    CHECK(history.recent(t0 + 1s).size() == 1);
    CHECK(history.breakers() == std::vector<std::string>{"payments"});

    history.forget("a");
    CHECK(history.runs("a").empty());
    CHECK(history.recent(t0).size() == 1);
    history.on_event(run_event(EventKind::started, "a", t0 + 2s));  // a job of that name again
    CHECK(history.runs("a").size() == 1);
}

TEST_CASE("RunHistory under writers, readers and forget on many threads", "[http][run_history][stress]") {
    RunHistory history(8);
    constexpr int kWriters = 4;
    constexpr int kRuns = 5'000;
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w)
        threads.emplace_back([&history, w] {
            const std::string job = "job-" + std::to_string(w % 2);  // two writers per job
            for (int i = 0; i < kRuns; ++i) {
                const txflow::WallTime fire{std::chrono::milliseconds(i * kWriters + w)};
                history.on_event(run_event(EventKind::started, job, fire));
                history.on_event(finished(job, fire, i % 3 == 0 ? Outcome::failed : Outcome::succeeded, "e"));
            }
        });
    std::atomic<std::uint64_t> seen{0};
    threads.emplace_back([&] {
        while (!done.load()) {
            for (const auto& run : history.runs("job-0")) CHECK(run.job == "job-0");
            seen += history.recent(txflow::WallTime{}).size();
            (void)history.last_hour();
        }
    });
    threads.emplace_back([&] {
        while (!done.load()) {
            history.forget("job-1");
            std::this_thread::yield();
        }
    });
    for (int w = 0; w < kWriters; ++w) threads[static_cast<std::size_t>(w)].join();
    done = true;
    threads[kWriters].join();
    threads[kWriters + 1].join();

    const auto runs = history.runs("job-0");
    CHECK(runs.size() == 8);
    for (const auto& run : runs) CHECK(run.outcome != Outcome::none);
    std::uint64_t finished_total = 0;
    for (const auto& m : history.last_hour()) finished_total += m.finished;
    CHECK(finished_total == std::uint64_t{kWriters} * kRuns);
    CHECK(seen.load() > 0);
}

}  // namespace run_history_test
