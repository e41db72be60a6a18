// Pivots (issue 13, bug 4): a no_compensation step cannot be undone, so once
// it may have acted the saga only goes forward. A "restart" is a scheduler
// stopped while a step runs, then a second one on the same store.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>

#include "support/ledger.hpp"
#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::SagaRef;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::Recovery;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::store::MemoryStore;
using txflow::test::Ledger;
using EventRecorder = txflow::testing::EventLog;
using txflow::test::quiet_logger;

namespace {

constexpr auto kWait = 20s;

SchedulerOptions options(std::shared_ptr<MemoryStore> store) {
    return SchedulerOptions{}.workers(2).seed(7).logger(quiet_logger("pivot")).store(std::move(store));
}

txflow::saga::StepFunction book(Ledger& ledger, long amount) {
    return [&ledger, amount](StepContext& ctx) { ledger.apply(ctx.idempotency_key(), amount); };
}
txflow::saga::StepFunction unbook(Ledger& ledger, long amount) {
    return [&ledger, amount](StepContext& ctx) {
        ledger.revert(std::string(ctx.saga_id()) + "/" + std::string(ctx.step_name()), amount);
    };
}
txflow::saga::StepFunction fail_with(std::string why) {
    return [why](StepContext&) { throw std::runtime_error(why); };
}

// Blocks the step until the scheduler stops: the process "dies" here.
void until_stopped(const StepContext& ctx) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait(lock, ctx.stop_token(), [] { return false; });
}

// A step that acts, then (the first time) is cut off before its success is recorded.
struct ActsThenDies {
    ActsThenDies(Ledger& l, long a) : ledger(l), amount(a) {}
    Ledger& ledger;
    long amount;
    std::atomic<int> runs{0};
    std::promise<void> entered;

    txflow::saga::StepFunction action() {
        return [this](StepContext& ctx) {
            ledger.apply(ctx.idempotency_key(), amount);
            if (++runs > 1) return;
            entered.set_value();
            until_stopped(ctx);
        };
    }
};

// Runs `make()` as saga `id` until `step` is inside its first attempt, stops
// that scheduler, and returns a second one on the same store with `make()`
// registered (not started).
std::unique_ptr<Scheduler> restart_inside(const std::shared_ptr<MemoryStore>& store,
                                          const std::function<SagaRef()>& make, const std::string& id,
                                          std::promise<void>& entered, SchedulerOptions second = {}) {
    {
        Scheduler first(options(store));
        first.start();
        first.start_saga(make(), nlohmann::json::object(), id);
        REQUIRE(entered.get_future().wait_for(kWait) == std::future_status::ready);
        first.stop(0ms);
    }
    auto sched = std::make_unique<Scheduler>(second.store(store));
    sched->register_saga(make());
    return sched;
}

}  // namespace

TEST_CASE("an interrupted pivot runs forward under the same key, whatever on_recovery says", "[saga][pivot]") {
    const Recovery recovery = GENERATE(Recovery::compensate, Recovery::resume);
    auto store = std::make_shared<MemoryStore>();
    Ledger ledger;
    ActsThenDies ship{ledger, 7};
    std::atomic<int> notified{0};
    auto make = [&] {
        return Saga("order")
            .step("debit", book(ledger, 5), unbook(ledger, 5))
            .step("ship", ship.action())
            .no_compensation()
            .step("notify", [&](StepContext&) { ++notified; })
            .no_compensation()
            .on_recovery(recovery)
            .build();
    };
    auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
    auto sched = restart_inside(store, make, "o-1", ship.entered,
                                options(store).logger(std::make_shared<spdlog::logger>("pivot", ring)));
    REQUIRE(sched->saga("o-1")->steps[1].state == State::running);
    sched->start();
    auto info = sched->wait_saga("o-1", kWait);
    REQUIRE(info);
    CHECK(info->state == State::succeeded);
    CHECK(info->steps[1].attempts == 2);
    CHECK(ship.runs == 2);
    CHECK(notified == 1);
    const auto entries = ledger.entries();
    CHECK(entries.at("o-1/ship").applied == 2);  // both attempts under the same key: applied once
    CHECK(entries.at("o-1/debit").reverted == 0);
    CHECK(entries.size() == 2);  // no compensation key ever used
    CHECK(ledger.total() == 12);
    sched->wait_idle();
    std::string recovered_line;
    for (const auto& line : ring->last_formatted())
        if (line.find("recovered as") != std::string::npos) recovered_line = line;
    CHECK_THAT(recovered_line, Catch::Contains("recovered as running: resuming"));
    if (recovery == Recovery::compensate)
        CHECK_THAT(recovered_line, Catch::Contains("step 'ship' cannot be undone (no_compensation)"));
}

TEST_CASE("a step interrupted before the pivot is still compensated with Recovery::compensate", "[saga][pivot]") {
    auto store = std::make_shared<MemoryStore>();
    Ledger ledger;
    ActsThenDies reserve{ledger, 3};
    std::atomic<int> shipped{0};
    auto make = [&] {
        return Saga("order")
            .step("debit", book(ledger, 5), unbook(ledger, 5))
            .step("reserve", reserve.action(), unbook(ledger, 3))
            .step("ship", [&](StepContext&) { ++shipped; })
            .no_compensation()
            .on_recovery(Recovery::compensate)
            .build();
    };
    auto sched = restart_inside(store, make, "o-2", reserve.entered, options(store));
    sched->start();
    auto info = sched->wait_saga("o-2", kWait);
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "interrupted by a restart");
    CHECK(info->steps[0].state == State::compensated);
    CHECK(info->steps[1].state == State::compensated);
    CHECK(info->steps[2].state == State::pending);
    CHECK(shipped == 0);
    CHECK(reserve.runs == 1);
    CHECK(ledger.total() == 0);
}

TEST_CASE("a step after a completed pivot that fails for good parks the saga; nothing is undone", "[saga][pivot]") {
    auto store = std::make_shared<MemoryStore>();
    Ledger ledger;
    auto listener = std::make_shared<EventRecorder>();
    Scheduler sched(options(store).listener(listener));
    std::atomic<int> audits{0};
    auto saga = Saga("order")
                    .step("debit", book(ledger, 5), unbook(ledger, 5))
                    .step("ship", book(ledger, 7))
                    .no_compensation()
                    .step("email", book(ledger, 1), unbook(ledger, 1))
                    .step(
                        "audit",
                        [&](StepContext&) {
                            ++audits;
                            throw std::runtime_error("audit log offline");
                        },
                        unbook(ledger, 2))
                    .retry(txflow::retry::fixed(1ms).attempts(3))
                    .build();
    sched.start();
    auto info = sched.start_saga(saga, nlohmann::json::object(), "o-3").wait(kWait);
    REQUIRE(info);
    CHECK(info->state == State::compensation_failed);
    CHECK(info->error ==
          "step 'audit' failed: audit log offline; not compensated past step 'ship', which cannot be undone "
          "(no_compensation) and may have acted: finish the saga by hand, then resolve_compensation()");
    CHECK(audits == 3);  // its retries ran first
    CHECK(info->steps[0].state == State::succeeded);
    CHECK(info->steps[1].state == State::succeeded);
    CHECK(info->steps[2].state == State::succeeded);
    CHECK(info->steps[3].state == State::failed);
    CHECK(ledger.total() == 13);
    for (const auto& [key, e] : ledger.entries()) CHECK(e.reverted == 0);
    sched.wait_idle();
    const auto alerts = listener->of(txflow::EventKind::alert);
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].detail == "compensation_failed");

    // Retrying the compensation cannot cross the pivot either; resolving it by hand can end it.
    REQUIRE(sched.retry_compensation("o-3"));
    CHECK(sched.wait_saga("o-3", kWait)->state == State::compensation_failed);
    REQUIRE(sched.resolve_compensation("o-3", "audited by hand"));
    CHECK(sched.saga("o-3")->state == State::compensated);
    CHECK(ledger.total() == 13);
}

TEST_CASE("an interrupted pivot that fails when run again parks the saga instead of undoing the steps before it",
          "[saga][pivot]") {
    auto store = std::make_shared<MemoryStore>();
    Ledger ledger;
    std::atomic<int> runs{0};
    std::promise<void> entered;
    auto make = [&] {
        return Saga("order")
            .step("debit", book(ledger, 5), unbook(ledger, 5))
            .step("ship",
                  [&](StepContext& ctx) {
                      if (++runs > 1) throw std::runtime_error("carrier down");
                      ledger.apply(ctx.idempotency_key(), 7);
                      entered.set_value();
                      until_stopped(ctx);
                  })
            .no_compensation()
            .on_recovery(Recovery::compensate)
            .build();
    };
    auto sched = restart_inside(store, make, "o-4", entered, options(store));
    sched->start();
    auto info = sched->wait_saga("o-4", kWait);
    REQUIRE(info);
    CHECK(info->state == State::compensation_failed);
    CHECK_THAT(info->error, Catch::StartsWith("step 'ship' failed: carrier down; not compensated past step 'ship'"));
    CHECK(info->steps[0].state == State::succeeded);
    CHECK(info->steps[1].state == State::running);  // it may have acted
    CHECK(ledger.total() == 12);
}

TEST_CASE("with nothing to undo before it, a failure after a no_compensation step compensates as before",
          "[saga][pivot]") {
    auto store = std::make_shared<MemoryStore>();
    Ledger ledger;
    Scheduler sched(options(store));
    auto saga = Saga("order")
                    .step("lookup", [](StepContext& ctx) { ctx.data()["price"] = 3; })
                    .no_compensation()
                    .step("reserve", book(ledger, 3), unbook(ledger, 3))
                    .step("charge", fail_with("declined"), unbook(ledger, 4))
                    .build();
    sched.start();
    auto info = sched.start_saga(saga, nlohmann::json::object(), "o-5").wait(kWait);
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "step 'charge' failed: declined");
    CHECK(info->steps[0].state == State::succeeded);
    CHECK(info->steps[1].state == State::compensated);
    CHECK(ledger.total() == 0);
}
