// Parallel groups and their data: what a completed branch wrote is recorded
// when it completes (a restart inside the group keeps it), and the
// compensations of a failed group see it.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::eventually;
using txflow::test::quiet_logger;

namespace {

constexpr auto kWait = 20s;

SchedulerOptions group_options(std::shared_ptr<txflow::store::Store> store = nullptr) {
    auto options = SchedulerOptions{}.workers(4).logger(quiet_logger());
    if (store) options.store(std::move(store));
    return options;
}

}  // namespace

TEST_CASE("a branch that completed before a restart inside its group keeps its data; the rest resumes",
          "[saga][store]") {
    auto store = std::make_shared<txflow::store::MemoryStore>();
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
    {
        Scheduler first(group_options(store));
        auto saga = make();
        first.start();
        auto h = first.start_saga(saga, {{"order", 42}}, "order-42");
        REQUIRE(eventually([&] { return h.info()->steps[0].state == State::succeeded && charge_calls == 1; }));
        first.stop(0ms);
    }
    Scheduler second(group_options(store));
    auto recovered = second.saga("order-42");
    REQUIRE(recovered);
    CHECK(recovered->state == State::running);
    CHECK(recovered->steps[0].state == State::succeeded);
    CHECK(recovered->data == nlohmann::json({{"order", 42}, {"reservation", "r-17"}}));

    second.register_saga(make());
    second.start();
    auto info = second.wait_saga("order-42", kWait);
    REQUIRE(info);
    CHECK(info->state == State::succeeded);
    CHECK(reserve_calls == 1);  // the completed branch did not run again
    CHECK(charge_calls == 2);
    CHECK(info->data ==
          nlohmann::json({{"order", 42}, {"reservation", "r-17"}, {"charge", "c-3"}, {"confirmed", "r-17+c-3"}}));
}

TEST_CASE("the compensations of a failed group see what its completed branches wrote", "[saga]") {
    std::atomic<bool> reserved{false};
    std::string cancelled;  // written by the compensation, read after wait()
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
    Scheduler sched(group_options());
    sched.start();
    auto info = sched.start_saga(saga, nlohmann::json::object(), "order-43").wait(kWait);
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->steps[0].state == State::compensated);
    CHECK(info->steps[1].state == State::failed);
    CHECK(cancelled == "r-17");
}
