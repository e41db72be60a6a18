// The operator calls on sagas off their happy path: cancel_saga,
// retry_compensation and resolve_compensation on unknown ids and on sagas in
// the wrong state. A refused call returns false and changes nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace saga_control_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::eventually;
using Fixture = txflow::testing::SchedulerFixture;  // a manual clock: no test here waits on it

namespace {

// A saga whose only compensation fails until `refund_works`: it parks in
// compensation_failed after one attempt.
txflow::SagaRef parking_saga(std::atomic<bool>& refund_works, std::atomic<int>& refund_calls) {
    return Saga("park")
        .step(
            "debit", [](StepContext&) {},
            [&](StepContext&) {
                ++refund_calls;
                if (!refund_works) throw std::runtime_error("bank offline");
            })
        .compensation_retry(txflow::retry::fixed(1ms).attempts(1))
        .step("ship", [](StepContext&) { throw std::runtime_error("no stock"); })
        .no_compensation()
        .build();
}

}  // namespace

TEST_CASE_METHOD(Fixture, "operator calls on an unknown saga id return false", "[saga][control]") {
    auto& sched = scheduler();
    start();
    CHECK_FALSE(sched.cancel_saga("no-such-saga"));
    CHECK_FALSE(sched.cancel_saga(""));
    CHECK_FALSE(sched.retry_compensation("no-such-saga"));
    CHECK_FALSE(sched.resolve_compensation("no-such-saga", "refunded by hand"));
    CHECK(sched.sagas().empty());
}

TEST_CASE_METHOD(Fixture, "cancel_saga refuses a saga that is no longer running, and a second cancel",
                 "[saga][control]") {
    auto& sched = scheduler();
    std::atomic<bool> in_step{false};
    auto saga = Saga("slow")
                    .step("wait",
                          [&](StepContext& ctx) {
                              in_step = true;
                              (void)eventually([&] { return ctx.stop_token().stop_requested(); });
                          })
                    .no_compensation()
                    .build();
    auto quick = Saga("quick").step("done", [](StepContext&) {}).no_compensation().build();
    sched.start();

    REQUIRE(run_saga(quick, {}, "finished").state == State::succeeded);
    CHECK_FALSE(sched.cancel_saga("finished"));
    CHECK(sched.saga("finished")->state == State::succeeded);

    (void)sched.start_saga(saga, {}, "running");
    REQUIRE(eventually([&] { return in_step.load(); }));
    CHECK(sched.cancel_saga("running", "operator says stop"));
    CHECK_FALSE(sched.cancel_saga("running", "again"));  // already cancelled
    const auto info = finish_saga("running");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "operator says stop");
    CHECK_FALSE(sched.cancel_saga("running"));  // compensated: nothing to cancel
}

TEST_CASE_METHOD(Fixture, "cancel_saga before start(): the saga never runs a step", "[saga][control]") {
    auto& sched = scheduler();
    std::atomic<int> step_runs{0};
    auto saga = Saga("never").step("a", [&](StepContext&) { ++step_runs; }).no_compensation().build();
    (void)sched.start_saga(saga, {}, "pending");
    CHECK(sched.cancel_saga("pending", "called off"));
    const auto info = finish_saga("pending");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(step_runs == 0);
}

TEST_CASE_METHOD(Fixture, "retry_compensation and resolve_compensation refuse a saga that is not parked",
                 "[saga][control]") {
    auto& sched = scheduler();
    std::atomic<bool> in_step{false};
    std::atomic<bool> release{false};
    auto blocking = Saga("blocking")
                        .step("hold",
                              [&](StepContext&) {
                                  in_step = true;
                                  (void)eventually([&] { return release.load(); });
                              })
                        .no_compensation()
                        .build();
    auto quick = Saga("quick").step("done", [](StepContext&) {}).no_compensation().build();
    sched.start();

    (void)sched.start_saga(blocking, {}, "running");
    REQUIRE(eventually([&] { return in_step.load(); }));
    CHECK_FALSE(sched.retry_compensation("running"));
    CHECK_FALSE(sched.resolve_compensation("running", "x"));
    release = true;
    REQUIRE(finish_saga("running")->state == State::succeeded);
    CHECK(sched.saga("running")->resolution.empty());

    REQUIRE(run_saga(quick, {}, "succeeded").state == State::succeeded);
    CHECK_FALSE(sched.retry_compensation("succeeded"));
    CHECK_FALSE(sched.resolve_compensation("succeeded", "x"));
    CHECK(sched.saga("succeeded")->state == State::succeeded);
}

TEST_CASE_METHOD(Fixture, "a parked saga: resolved once, then every operator call is refused", "[saga][control]") {
    auto& sched = scheduler();
    std::atomic<bool> refund_works{false};
    std::atomic<int> refund_calls{0};
    (void)sched.start_saga(parking_saga(refund_works, refund_calls), {}, "p1");
    REQUIRE(finish_saga("p1")->state == State::compensation_failed);
    CHECK_FALSE(sched.cancel_saga("p1"));  // not running

    REQUIRE(sched.resolve_compensation("p1", "refunded by hand"));
    auto info = sched.saga("p1");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->resolution == "refunded by hand");
    CHECK(info->steps[0].state == State::compensated);

    CHECK_FALSE(sched.resolve_compensation("p1", "again"));
    CHECK_FALSE(sched.retry_compensation("p1"));
    CHECK(sched.saga("p1")->resolution == "refunded by hand");
    CHECK(refund_calls == 1);  // resolving runs nothing
}

TEST_CASE_METHOD(Fixture, "retry_compensation that fails again parks the saga again, and can be retried",
                 "[saga][control]") {
    auto& sched = scheduler();
    auto* events = &event_log();
    std::atomic<bool> refund_works{false};
    std::atomic<int> refund_calls{0};
    (void)sched.start_saga(parking_saga(refund_works, refund_calls), {}, "p2");
    REQUIRE(finish_saga("p2")->state == State::compensation_failed);
    REQUIRE(refund_calls == 1);

    REQUIRE(sched.retry_compensation("p2"));
    REQUIRE(eventually([&] { return refund_calls == 2; }));
    auto info = finish_saga("p2");
    REQUIRE(info);
    CHECK(info->state == State::compensation_failed);
    CHECK(eventually([&] { return events->of(txflow::EventKind::alert).size() == 2; }));  // parked twice

    refund_works = true;
    REQUIRE(sched.retry_compensation("p2"));
    REQUIRE(eventually([&] { return sched.saga("p2")->state == State::compensated; }));
    CHECK(refund_calls == 3);
    CHECK(sched.saga("p2")->resolution.empty());
    CHECK_FALSE(sched.retry_compensation("p2"));
}

}  // namespace saga_control_test
