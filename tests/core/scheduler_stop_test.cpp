// stop(d) keeps its deadline whatever the jobs do: a job that ignores its
// stop token is reported and left running (the destructor joins it), a job
// that honours the request is reported as stopped, queued runs are counted.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <random>
#include <thread>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"

namespace scheduler_stop_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::test::eventually;
using txflow::test::Gate;
using txflow::test::quiet_logger;
using Strings = std::vector<std::string>;

TEST_CASE("stop(d) returns by d + grace when a job ignores its stop token", "[scheduler][stop]") {
    std::atomic<bool> entered{false};
    std::atomic<bool> ended{false};
    auto sched = std::make_unique<Scheduler>(SchedulerOptions{}.workers(2).logger(quiet_logger()).stop_grace(100ms));
    Gate gate;
    auto stubborn = sched->job("stubborn").after(0ms).run([&, opened = gate.opened](JobContext&) {
        entered = true;
        opened.wait();  // never looks at its stop token
        ended = true;
    });
    sched->start();
    REQUIRE(eventually([&] { return entered.load(); }));

    const auto t0 = std::chrono::steady_clock::now();
    const auto report = sched->stop(300ms);
    const auto took = std::chrono::steady_clock::now() - t0;

    CHECK_FALSE(report.drained);
    CHECK(report.still_running == Strings{"stubborn"});
    CHECK(report.stopped_on_request.empty());
    CHECK_FALSE(ended.load());
    // 300 ms + 100 ms grace; the bound leaves room for a loaded machine but
    // not for the job's own run, which never ends until the gate opens.
    CHECK(took >= 300ms);
    CHECK(took < 3s);

    gate.open();
    sched.reset();  // the destructor joins the stubborn run
    CHECK(ended.load());
}

TEST_CASE("stop returns as soon as the runs it asked have ended", "[scheduler][stop]") {
    std::latch both_running{2};
    Scheduler sched(SchedulerOptions{}.workers(2).logger(quiet_logger()).stop_grace(30s));
    Gate gate;
    sched.job("polite").after(0ms).run([&](JobContext& ctx) {
        both_running.count_down();
        while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
    });
    sched.job("slow").after(0ms).run([&, opened = gate.opened](JobContext&) {
        both_running.count_down();
        opened.wait();
    });
    sched.start();
    both_running.wait();
    // Released while stop() waits in its grace: both runs then end within it.
    std::thread opener([&] {
        std::this_thread::sleep_for(50ms);
        gate.open();
    });
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = sched.stop(0ms);
    const auto took = std::chrono::steady_clock::now() - t0;
    opener.join();
    CHECK_FALSE(report.drained);
    CHECK(report.still_running.empty());
    Strings stopped = report.stopped_on_request;
    std::sort(stopped.begin(), stopped.end());
    CHECK(stopped == Strings{"polite", "slow"});
    CHECK(took < 20s);  // not the whole 30 s grace
}

TEST_CASE("stop splits a polite job from a deaf one", "[scheduler][stop]") {
    std::latch both_running{2};
    Scheduler sched(SchedulerOptions{}.workers(2).logger(quiet_logger()).stop_grace(200ms));
    Gate gate;
    sched.job("polite").after(0ms).run([&](JobContext& ctx) {
        both_running.count_down();
        while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
    });
    sched.job("deaf").after(0ms).run([&, opened = gate.opened](JobContext&) {
        both_running.count_down();
        opened.wait();
    });
    sched.start();
    both_running.wait();
    const auto report = sched.stop(0ms);
    CHECK_FALSE(report.drained);
    CHECK(report.stopped_on_request == Strings{"polite"});
    CHECK(report.still_running == Strings{"deaf"});
    gate.open();
}

TEST_CASE("stop counts the queued runs it cancels, even with every worker held", "[scheduler][stop]") {
    std::atomic<bool> entered{false};
    std::atomic<int> queued_ran{0};
    auto sched = std::make_unique<Scheduler>(SchedulerOptions{}.workers(1).logger(quiet_logger()).stop_grace(50ms));
    Gate gate;
    sched->job("holder").after(0ms).run([&, opened = gate.opened](JobContext&) {
        entered = true;
        opened.wait();
    });
    sched->start();
    REQUIRE(eventually([&] { return entered.load(); }));
    auto waiting = sched->job("waiting").after(1h).run([&](JobContext&) { ++queued_ran; });
    REQUIRE(waiting.trigger_now());
    REQUIRE(waiting.trigger_now());

    const auto report = sched->stop(100ms);
    CHECK_FALSE(report.drained);
    CHECK(report.still_running == Strings{"holder"});
    // Two triggers, both behind the held worker.
    CHECK(report.dropped_queued == 2);
    gate.open();
    sched.reset();
    CHECK(queued_ran.load() == 0);
}

TEST_CASE("stop drains what finishes before the deadline", "[scheduler][stop]") {
    std::atomic<int> ran{0};
    Scheduler sched(SchedulerOptions{}.workers(2).logger(quiet_logger()));
    for (int i = 0; i < 8; ++i)
        sched.job("quick-" + std::to_string(i)).after(0ms).run([&](JobContext&) {
            std::this_thread::sleep_for(5ms);
            ++ran;
        });
    sched.start();
    REQUIRE(eventually([&] { return ran.load() == 8; }));
    const auto report = sched.stop(5s);
    CHECK(report.drained);
    CHECK(report.still_running.empty());
    CHECK(report.stopped_on_request.empty());
    CHECK(report.dropped_queued == 0);
}

TEST_CASE("stress: stop while runs start, retry, end and ignore the request", "[scheduler][stop][stress]") {
    std::mt19937 rng(12345);
    for (std::size_t round = 0; round < 30; ++round) {
        std::atomic<int> ran{0};
        auto sched = std::make_unique<Scheduler>(
            SchedulerOptions{}.workers(1 + round % 3).logger(quiet_logger()).stop_grace(5ms));
        Gate gate;
        for (int i = 0; i < 6; ++i) {
            const bool deaf = i == 0 && round % 2 == 0;
            auto job = sched->job("j" + std::to_string(i)).every(1ms);
            if (i % 3 == 1) job.retry(txflow::retry::fixed(0ms).attempts(3));
            job.run([&ran, deaf, i, opened = gate.opened](JobContext& ctx) {
                ++ran;
                if (deaf) opened.wait();
                if (i % 3 == 1) throw std::runtime_error("retry me");
                while (!ctx.stop_token().stop_requested() && i % 2 == 0) std::this_thread::sleep_for(100us);
            });
        }
        sched->start();
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
        const auto report = sched->stop(std::chrono::milliseconds(rng() % 3));
        for (const auto& name : report.still_running)
            CHECK(std::find(report.stopped_on_request.begin(), report.stopped_on_request.end(), name) ==
                  report.stopped_on_request.end());
        if (report.drained) CHECK(report.still_running.empty());
        gate.open();
        sched.reset();  // joins whatever still ran
    }
}

}  // namespace scheduler_stop_test
