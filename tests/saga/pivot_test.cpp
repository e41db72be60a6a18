// Pivots (issue 13, bug 4): a no_compensation step cannot be undone, so once
// it may have acted the saga only goes forward. A "restart" is a scheduler
// stopped while a step runs, then a second one on the same store.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "support/ledger.hpp"
#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace pivot_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::SagaRef;
using txflow::Scheduler;
using txflow::saga::Recovery;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::Ledger;

namespace {

constexpr auto kWait = 20s;

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

// The kit's manual-clock scheduler on a memory store; the ledger is a base
// listed first, so it outlives the scheduler whose steps book into it.
struct Books {
    Ledger ledger;
};
struct Fixture : Books, txflow::testing::SchedulerFixture {
    explicit Fixture(txflow::testing::FixtureOptions options = {}) : SchedulerFixture(std::move(options)) {}

    // Runs `make()` as saga `id` until a step is inside its first attempt
    // (`entered`), stops that scheduler, and restarts on the same store with
    // `make()` registered; `before_start` sees the new scheduler before it starts.
    void restart_inside(const std::function<SagaRef()>& make, const std::string& id, std::promise<void>& entered,
                        const std::function<void(Scheduler&)>& before_start = {}) {
        start();
        (void)scheduler().start_saga(make(), nlohmann::json::object(), id);
        REQUIRE(entered.get_future().wait_for(kWait) == std::future_status::ready);
        scheduler().stop(0ms);
        restart(0ms, [make, before_start](Scheduler& second) {
            second.register_saga(make());
            if (before_start) before_start(second);
        });
    }
};

// Its log lines kept, for a test to read (the ring is a base: made before the scheduler).
struct Ring {
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
};
struct LoggedFixture : Ring, Fixture {
    LoggedFixture() : Fixture({.logger = std::make_shared<spdlog::logger>("pivot", ring)}) {}
};

}  // namespace

TEST_CASE_METHOD(LoggedFixture, "an interrupted pivot runs forward under the same key, whatever on_recovery says",
                 "[saga][pivot]") {
    const Recovery recovery = GENERATE(Recovery::compensate, Recovery::resume);
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
    std::optional<State> ship_before_start;
    restart_inside(make, "o-1", ship.entered,
                   [&](Scheduler& second) { ship_before_start = second.saga("o-1")->steps[1].state; });
    REQUIRE(ship_before_start == State::running);
    auto info = finish_saga("o-1");
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
    settle();
    std::string recovered_line;
    for (const auto& line : ring->last_formatted())
        if (line.find("recovered as") != std::string::npos) recovered_line = line;
    CHECK_THAT(recovered_line, Catch::Contains("recovered as running: resuming"));
    if (recovery == Recovery::compensate)
        CHECK_THAT(recovered_line, Catch::Contains("step 'ship' cannot be undone (no_compensation)"));
}

TEST_CASE_METHOD(Fixture, "a step interrupted before the pivot is still compensated with Recovery::compensate",
                 "[saga][pivot]") {
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
    restart_inside(make, "o-2", reserve.entered);
    auto info = finish_saga("o-2");
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

TEST_CASE_METHOD(Fixture, "a step after a completed pivot that fails for good parks the saga; nothing is undone",
                 "[saga][pivot]") {
    auto& sched = scheduler();
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
    const auto info = std::optional(run_saga(saga, nlohmann::json::object(), "o-3"));
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
    const auto alerts = event_log().of(txflow::EventKind::alert);
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].detail == "compensation_failed");

    // Retrying the compensation cannot cross the pivot either; resolving it by hand can end it.
    REQUIRE(sched.retry_compensation("o-3"));
    CHECK(finish_saga("o-3")->state == State::compensation_failed);
    REQUIRE(sched.resolve_compensation("o-3", "audited by hand"));
    CHECK(sched.saga("o-3")->state == State::compensated);
    CHECK(ledger.total() == 13);
}

TEST_CASE_METHOD(Fixture,
                 "an interrupted pivot that fails when run again parks the saga instead of undoing the steps before it",
                 "[saga][pivot]") {
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
    restart_inside(make, "o-4", entered);
    auto info = finish_saga("o-4");
    REQUIRE(info);
    CHECK(info->state == State::compensation_failed);
    CHECK_THAT(info->error, Catch::StartsWith("step 'ship' failed: carrier down; not compensated past step 'ship'"));
    CHECK(info->steps[0].state == State::succeeded);
    CHECK(info->steps[1].state == State::running);  // it may have acted
    CHECK(ledger.total() == 12);
}

TEST_CASE_METHOD(Fixture,
                 "with nothing to undo before it, a failure after a no_compensation step compensates as before",
                 "[saga][pivot]") {
    auto saga = Saga("order")
                    .step("lookup", [](StepContext& ctx) { ctx.data()["price"] = 3; })
                    .no_compensation()
                    .step("reserve", book(ledger, 3), unbook(ledger, 3))
                    .step("charge", fail_with("declined"), unbook(ledger, 4))
                    .build();
    const auto info = std::optional(run_saga(saga, nlohmann::json::object(), "o-5"));
    CHECK(info->state == State::compensated);
    CHECK(info->error == "step 'charge' failed: declined");
    CHECK(info->steps[0].state == State::succeeded);
    CHECK(info->steps[1].state == State::compensated);
    CHECK(ledger.total() == 0);
}

}  // namespace pivot_test
