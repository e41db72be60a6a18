// Parallel groups and their data: what a completed branch wrote is recorded
// when it completes (a restart inside the group keeps it), and the
// compensations of a failed group see it.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <thread>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace saga_group_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::eventually;

namespace {

// The kit's manual-clock scheduler (memory store) with a worker for every branch.
struct Fixture : txflow::testing::SchedulerFixture {
    Fixture() : SchedulerFixture({.scheduler = SchedulerOptions{}.workers(4)}) {}
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a branch that completed before a restart inside its group keeps its data; the rest resumes",
                 "[saga][store]") {
    std::atomic<int> reserve_calls{0};
    std::atomic<int> charge_calls{0};
    auto make = [&] {
        return Saga("checkout")
            .parallel(txflow::step(
                          "reserve",
                          [&](StepContext& ctx) {
                              ++reserve_calls;
                              ctx.data()["reservation"] = "r-17";
                          },
                          [](StepContext&) {}),
                      txflow::step(
                          "charge",
                          [&](StepContext& ctx) {
                              // First process: hold the group open until the scheduler stops.
                              if (++charge_calls == 1) {
                                  while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
                                  return;
                              }
                              ctx.data()["charge"] = "c-3";
                          },
                          [](StepContext&) {}))
            .step("confirm",
                  [](StepContext& ctx) {
                      ctx.data()["confirmed"] =
                          ctx.data()["reservation"].get<std::string>() + "+" + ctx.data()["charge"].get<std::string>();
                  })
            .no_compensation()
            .build();
    };
    start();
    {
        auto h = scheduler().start_saga(make(), {{"order", 42}}, "order-42");
        REQUIRE(eventually([&] { return h.info()->steps[0].state == State::succeeded && charge_calls == 1; }));
        scheduler().stop(0ms);
    }
    // The second process: what it recovered, before it starts; then the saga registered.
    std::optional<txflow::saga::Info> recovered;
    restart(0ms, [&](Scheduler& second) {
        recovered = second.saga("order-42");
        second.register_saga(make());
    });
    REQUIRE(recovered);
    CHECK(recovered->state == State::running);
    CHECK(recovered->steps[0].state == State::succeeded);
    CHECK(recovered->data == nlohmann::json({{"order", 42}, {"reservation", "r-17"}}));

    auto info = finish_saga("order-42");
    REQUIRE(info);
    CHECK(info->state == State::succeeded);
    CHECK(reserve_calls == 1);  // the completed branch did not run again
    CHECK(charge_calls == 2);
    CHECK(info->data ==
          nlohmann::json({{"order", 42}, {"reservation", "r-17"}, {"charge", "c-3"}, {"confirmed", "r-17+c-3"}}));
}

TEST_CASE_METHOD(Fixture, "the compensations of a failed group see what its completed branches wrote", "[saga]") {
    std::atomic<bool> reserved{false};
    std::string cancelled;  // written by the compensation, read after run_saga()
    auto saga = Saga("checkout")
                    .parallel(txflow::step(
                                  "reserve",
                                  [&](StepContext& ctx) {
                                      ctx.data()["reservation"] = "r-17";
                                      reserved = true;
                                  },
                                  [&](StepContext& ctx) { cancelled = ctx.data().value("reservation", "none"); }),
                              txflow::step(
                                  "charge",
                                  [&](StepContext&) {
                                      // Fail only once the sibling has completed.
                                      while (!reserved) std::this_thread::sleep_for(1ms);
                                      throw std::runtime_error("card declined");
                                  },
                                  [](StepContext&) {}))
                    .build();
    const auto info = run_saga(saga, nlohmann::json::object(), "order-43");
    CHECK(info.state == State::compensated);
    CHECK(info.steps[0].state == State::compensated);
    CHECK(info.steps[1].state == State::failed);
    CHECK(cancelled == "r-17");
}

}  // namespace saga_group_test
