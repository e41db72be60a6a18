#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/live_state.hpp"
#include "support/ledger.hpp"
#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace saga_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::SagaRef;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::eventually;
using txflow::test::Ledger;

namespace {

std::string original_key(const StepContext& ctx) {
    return std::string(ctx.saga_id()) + "/" + std::string(ctx.step_name());
}

// A step that books `amount` under its idempotency key, failing first if told to.
txflow::saga::StepFunction book(Ledger& ledger, long amount, std::atomic<int>* fail_times = nullptr) {
    return [&ledger, amount, fail_times](StepContext& ctx) {
        if (fail_times != nullptr && fail_times->load() > 0) {
            --*fail_times;
            throw std::runtime_error("injected failure in " + std::string(ctx.step_name()));
        }
        ledger.apply(ctx.idempotency_key(), amount);
    };
}
txflow::saga::StepFunction unbook(Ledger& ledger, long amount) {
    return [&ledger, amount](StepContext& ctx) {
        // Not a CHECK: Catch2 assertions are not thread-safe, and this runs on a worker.
        if (!ctx.compensating()) throw std::logic_error("unbook ran outside a compensation");
        ledger.revert(original_key(ctx), amount);
    };
}

// The kit's manual-clock scheduler with 4 workers; the ledger is a base
// listed first, so it outlives the scheduler whose steps book into it.
struct Books {
    Ledger ledger;
};
struct Fixture : Books, txflow::testing::SchedulerFixture {
    explicit Fixture(SchedulerOptions scheduler = SchedulerOptions{}.workers(4))
        : SchedulerFixture({.scheduler = std::move(scheduler)}) {}
};
struct RetentionFixture : Fixture {
    RetentionFixture() : Fixture(SchedulerOptions{}.workers(4).saga_retention(1h)) {}
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a saga runs its steps in order and passes data forward", "[saga]") {
    std::vector<std::string> order;
    // What the charge step saw, checked on the test's thread (Catch2 is not thread-safe).
    nlohmann::json seen_data;
    std::string seen_key;
    std::uint32_t seen_attempt = 0;
    auto saga = Saga("order")
                    .step("reserve",
                          [&](StepContext& ctx) {
                              order.push_back("reserve");
                              ctx.data()["reservation"] = "r-" + std::string(ctx.saga_id());
                          })
                    .no_compensation()
                    .step("charge",
                          [&](StepContext& ctx) {
                              order.push_back("charge");
                              seen_data = ctx.data();
                              seen_key = std::string(ctx.idempotency_key());
                              seen_attempt = ctx.attempt();
                              ctx.data()["charged"] = true;
                          })
                    .no_compensation()
                    .build();
    start();
    auto h = scheduler().start_saga(saga, {{"amount", 25}}, "o-1");
    CHECK(h.created());
    auto info = finish_saga(h.id());
    REQUIRE(info);
    CHECK(info->state == State::succeeded);
    CHECK(order == std::vector<std::string>{"reserve", "charge"});
    CHECK(seen_data["reservation"] == "r-o-1");
    CHECK(seen_data["amount"] == 25);
    CHECK(seen_key == "o-1/charge");
    CHECK(seen_attempt == 1);
    CHECK(info->data["charged"] == true);
    CHECK(info->data["reservation"] == "r-o-1");
    REQUIRE(info->steps.size() == 2);
    for (const auto& s : info->steps) {
        CHECK(s.state == State::succeeded);
        CHECK(s.attempts == 1);
        CHECK(s.started.has_value());
        CHECK(s.finished.has_value());
    }
}

TEST_CASE_METHOD(Fixture, "a failure at each step position compensates exactly the completed steps, in reverse",
                 "[saga]") {
    constexpr int kSteps = 5;
    for (int failing = 0; failing < kSteps; ++failing) {
        DYNAMIC_SECTION("step " << failing << " fails") {
            std::vector<txflow::saga::Step> steps;
            std::atomic<int> fail_forever{1 << 30};
            for (int i = 0; i < kSteps; ++i) {
                txflow::saga::Step s;
                s.name = "s" + std::to_string(i);
                s.action = book(ledger, 10 + i, i == failing ? &fail_forever : nullptr);
                s.compensation = unbook(ledger, 10 + i);
                s.retry = txflow::retry::fixed(1ms).attempts(2);  // the failure survives its retry
                steps.push_back(std::move(s));
            }
            auto def = txflow::saga::Definition::create("pipeline", std::move(steps));
            REQUIRE(def);
            const auto info = run_saga(*def, nlohmann::json::object(), "p");
            CHECK(info.state == State::compensated);
            CHECK(info.error ==
                  "step 's" + std::to_string(failing) + "' failed: injected failure in s" + std::to_string(failing));
            std::vector<std::string> expected;
            for (int i = 0; i < failing; ++i) expected.push_back("+p/s" + std::to_string(i));
            for (int i = failing - 1; i >= 0; --i) expected.push_back("-p/s" + std::to_string(i));
            CHECK(ledger.order() == expected);
            CHECK(ledger.total() == 0);
            for (int i = 0; i < kSteps; ++i) {
                const auto& st = info.steps[static_cast<std::size_t>(i)];
                INFO("step " << i);
                if (i < failing) {
                    CHECK(st.state == State::compensated);
                    CHECK(st.compensation_attempts == 1);
                } else if (i == failing) {
                    CHECK(st.state == State::failed);
                    CHECK(st.attempts == 2);
                    CHECK(st.last_error == "injected failure in s" + std::to_string(failing));
                } else {
                    CHECK(st.state == State::pending);
                    CHECK(st.attempts == 0);
                }
            }
        }
    }
}

TEST_CASE_METHOD(Fixture, "a step's retry can turn a failure into success", "[saga]") {
    std::atomic<int> fail_twice{2};
    auto saga = Saga("pay")
                    .step("debit", book(ledger, 5), unbook(ledger, 5))
                    .step("credit", book(ledger, 7, &fail_twice), unbook(ledger, 7))
                    .retry(txflow::retry::fixed(2ms).attempts(3))
                    .build();
    const auto info = run_saga(saga, nlohmann::json::object(), "t1");
    CHECK(info.state == State::succeeded);
    CHECK(info.steps[1].attempts == 3);
    CHECK(info.steps[1].last_error == "injected failure in credit");
    CHECK(ledger.total() == 12);
}

TEST_CASE_METHOD(Fixture, "starting with an existing idempotency key returns that instance and runs nothing",
                 "[saga]") {
    std::atomic<int> runs{0};
    auto saga = Saga("once").step("count", [&](StepContext&) { ++runs; }).no_compensation().build();
    start();
    auto first = scheduler().start_saga(saga, {{"n", 1}}, "key-1");
    REQUIRE(finish_saga(first.id())->state == State::succeeded);
    auto second = scheduler().start_saga(saga, {{"n", 2}}, "key-1");
    CHECK(first.created());
    CHECK_FALSE(second.created());
    CHECK(second.id() == "key-1");
    CHECK(finish_saga(second.id())->data["n"] == 1);  // the first instance's data
    settle();
    CHECK(runs == 1);
    CHECK(scheduler().sagas().size() == 1);

    // Without a key every start is a new instance.
    auto a = scheduler().start_saga(saga, {});
    auto b = scheduler().start_saga(saga, {});
    CHECK(a.id() != b.id());
    CHECK(finish_saga(a.id())->state == State::succeeded);
    CHECK(finish_saga(b.id())->state == State::succeeded);
    CHECK(runs == 3);
}

TEST_CASE_METHOD(Fixture, "a compensation that keeps failing parks the saga, alerts, and an operator retries it",
                 "[saga]") {
    auto* listener = &event_log();
    std::atomic<bool> refund_works{false};
    std::atomic<int> refund_calls{0};
    auto saga = Saga("refund")
                    .step("debit", book(ledger, 5),
                          [&](StepContext& ctx) {
                              ++refund_calls;
                              if (!refund_works) throw std::runtime_error("bank offline");
                              ledger.revert(original_key(ctx), 5);
                          })
                    .compensation_retry(txflow::retry::fixed(1ms).attempts(3))
                    .step("ship", [](StepContext&) { throw std::runtime_error("no stock"); })
                    .no_compensation()
                    .build();
    auto info = std::optional(run_saga(saga, nlohmann::json::object(), "r1"));
    CHECK(info->state == State::compensation_failed);
    CHECK(info->error == "compensation of step 'debit' failed: bank offline");
    CHECK(info->steps[0].state == State::compensation_failed);
    CHECK(info->steps[0].compensation_attempts == 3);
    CHECK(refund_calls == 3);
    // Listeners run on the engine's thread, which may still be delivering when wait() returns.
    CHECK(eventually([&] { return !listener->of(txflow::EventKind::alert).empty(); }));
    {
        const auto alerts = listener->of(txflow::EventKind::alert);
        REQUIRE(alerts.size() == 1);
        CHECK(alerts[0].job + ": " + alerts[0].error == "r1: compensation of step 'debit' failed: bank offline");
    }
    CHECK(scheduler().sagas(State::compensation_failed).size() == 1);
    CHECK(ledger.total() == 5);  // the debit is still booked

    CHECK_FALSE(scheduler().resolve_compensation("nope", "x"));
    refund_works = true;
    REQUIRE(scheduler().retry_compensation("r1"));
    info = finish_saga("r1");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->steps[0].state == State::compensated);
    CHECK(info->steps[0].compensation_attempts == 4);
    CHECK(ledger.total() == 0);
    CHECK_FALSE(scheduler().retry_compensation("r1"));  // not parked any more
}

TEST_CASE_METHOD(Fixture, "an operator can mark a parked saga resolved", "[saga]") {
    auto saga = Saga("manual")
                    .step(
                        "a", [](StepContext&) {}, [](StepContext&) { throw std::runtime_error("stuck"); })
                    .compensation_retry(txflow::retry::fixed(1ms).attempts(1))
                    .step("b", [](StepContext&) { throw std::runtime_error("boom"); })
                    .no_compensation()
                    .build();
    REQUIRE(run_saga(saga, nlohmann::json::object(), "m1").state == State::compensation_failed);
    REQUIRE(scheduler().resolve_compensation("m1", "refunded by hand, ticket 123"));
    auto info = scheduler().saga("m1");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->resolution == "refunded by hand, ticket 123");
    CHECK(info->steps[0].state == State::compensated);
}

TEST_CASE_METHOD(Fixture, "a step's timeout requests its stop token and counts as a failure", "[saga]") {
    std::atomic<int> attempts{0};
    std::atomic<bool> saw_stop{false};
    auto saga = Saga("slow")
                    .step("wait",
                          [&](StepContext& ctx) {
                              ++attempts;
                              const auto until = std::chrono::steady_clock::now() + 10s;
                              while (!ctx.stop_token().stop_requested() && std::chrono::steady_clock::now() < until)
                                  std::this_thread::sleep_for(1ms);
                              saw_stop = ctx.stop_token().stop_requested();
                          })
                    .no_compensation()
                    .timeout(30ms)
                    .retry(txflow::retry::fixed(1ms).attempts(2))
                    .build();
    start();
    const auto began = std::chrono::steady_clock::now();
    (void)scheduler().start_saga(saga, nlohmann::json::object(), "slow-1");
    // Each attempt's deadline is armed before it runs, 30 ms on from the clock's time then.
    REQUIRE(eventually([&] { return attempts == 1; }));
    clock().advance(30ms);
    // The retry is due 1 ms after the first attempt ends: step the clock until it runs.
    REQUIRE(eventually([&] {
        if (attempts == 1) clock().advance(1ms);
        return attempts == 2;
    }));
    clock().advance(30ms);
    auto info = finish_saga("slow-1");
    REQUIRE(info);
    CHECK(std::chrono::steady_clock::now() - began < 5s);  // the stop came from the (manual) deadline, not the spin
    CHECK(saw_stop);
    CHECK(attempts == 2);
    CHECK(info->state == State::compensated);
    CHECK(info->steps[0].state == State::failed);
    CHECK(info->steps[0].last_error == "timed out after 30ms");
}

TEST_CASE_METHOD(Fixture, "a parallel group runs at once; when one fails the others stop and the completed are undone",
                 "[saga]") {
    // Each branch waits (up to 10 s) for the other to arrive: they meet only
    // if they run at once.
    std::atomic<int> arrived{0};
    auto meet_the_other_branch = [&] {
        ++arrived;
        return eventually([&] { return arrived == 2; });
    };
    std::atomic<int> met{0};
    SECTION("all succeed: data from every branch is merged") {
        auto saga = Saga("fanout")
                        .step("prepare", book(ledger, 1), unbook(ledger, 1))
                        .parallel(txflow::step("left",
                                               [&](StepContext& ctx) {
                                                   if (meet_the_other_branch()) ++met;
                                                   ctx.data()["left"] = 1;
                                               })
                                      .no_compensation(),
                                  txflow::step("right",
                                               [&](StepContext& ctx) {
                                                   if (meet_the_other_branch()) ++met;
                                                   ctx.data()["right"] = 2;
                                               })
                                      .no_compensation())
                        .step("finish",
                              [](StepContext& ctx) {
                                  ctx.data()["sum"] = ctx.data()["left"].get<int>() + ctx.data()["right"].get<int>();
                              })
                        .no_compensation()
                        .build();
        const auto info = std::optional(run_saga(saga, {{"base", true}}, "f1"));
        CHECK(info->state == State::succeeded);
        CHECK(info->data == nlohmann::json({{"base", true}, {"left", 1}, {"right", 2}, {"sum", 3}}));
        CHECK(met == 2);
    }
    SECTION("one branch fails") {
        std::atomic<bool> slow_stopped{false};
        std::atomic<bool> fast_done{false};
        auto book_fast = book(ledger, 2);
        auto saga = Saga("fanout")
                        .step("prepare", book(ledger, 1), unbook(ledger, 1))
                        .parallel(txflow::step(
                                      "fast",
                                      [&](StepContext& ctx) {
                                          book_fast(ctx);
                                          fast_done = true;
                                      },
                                      unbook(ledger, 2)),
                                  txflow::step("slow",
                                               [&](StepContext& ctx) {
                                                   const auto until = std::chrono::steady_clock::now() + 10s;
                                                   while (!ctx.stop_token().stop_requested() &&
                                                          std::chrono::steady_clock::now() < until)
                                                       std::this_thread::sleep_for(1ms);
                                                   slow_stopped = ctx.stop_token().stop_requested();
                                               })
                                      .compensate(unbook(ledger, 3)),
                                  txflow::step("broken",
                                               [&](StepContext&) {
                                                   // Fails once "fast" has completed, so that it is undone.
                                                   (void)eventually([&] { return fast_done.load(); });
                                                   throw std::runtime_error("broken branch");
                                               })
                                      .compensate(unbook(ledger, 4)))
                        .build();
        const auto info = std::optional(run_saga(saga, nlohmann::json::object(), "f2"));
        CHECK(info->state == State::compensated);
        CHECK(slow_stopped);
        CHECK(info->steps[0].state == State::compensated);  // prepare
        CHECK(info->steps[1].state == State::compensated);  // fast completed: undone
        CHECK(info->steps[2].state == State::failed);       // slow was stopped: it did not complete
        CHECK(info->steps[3].state == State::failed);       // broken
        CHECK(ledger.total() == 0);
        CHECK(info->error == "step 'broken' failed: broken branch");
    }
}

TEST_CASE_METHOD(Fixture, "cancel_saga stops a running saga and compensates it", "[saga]") {
    auto& sched = scheduler();
    std::atomic<bool> in_second{false};
    auto saga = Saga("cancel")
                    .step("first", book(ledger, 1), unbook(ledger, 1))
                    .step("second",
                          [&](StepContext& ctx) {
                              in_second = true;
                              while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
                          })
                    .no_compensation()
                    .retry(txflow::retry::fixed(1ms).attempts(5))
                    .build();
    start();
    (void)sched.start_saga(saga, nlohmann::json::object(), "c1");
    while (!in_second) std::this_thread::sleep_for(1ms);
    REQUIRE(sched.cancel_saga("c1", "customer cancelled"));
    auto info = finish_saga("c1");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "customer cancelled");
    CHECK(info->steps[1].attempts == 1);  // a cancelled step is not retried
    CHECK(ledger.total() == 0);
    CHECK_FALSE(sched.cancel_saga("c1"));
}

TEST_CASE_METHOD(Fixture, "every transition is in the store before the step it announces runs", "[saga][store]") {
    const auto& store = this->store();
    std::vector<std::string> seen_at_step;
    auto last_record = [&] {
        std::string text;
        (void)store->read(store->last_seq() - 1, [&](const txflow::store::Record& r) {
            text = txflow::store::record_to_json(r);
            return true;
        });
        return text;
    };
    auto saga = Saga("wal")
                    .step(
                        "a", [&](StepContext&) { seen_at_step.push_back(last_record()); },
                        [&](StepContext&) { seen_at_step.push_back(last_record()); })
                    .step("b", [](StepContext&) { throw std::runtime_error("no"); })
                    .no_compensation()
                    .build();
    REQUIRE(run_saga(saga, {{"x", 1}}, "w1").state == State::compensated);
    REQUIRE(seen_at_step.size() == 2);
    CHECK_THAT(seen_at_step[0], Catch::Contains(R"("step":0)") && Catch::Contains(R"("to":"running")"));
    CHECK_THAT(seen_at_step[1], Catch::Contains(R"("step":0)") && Catch::Contains(R"("to":"compensating")"));

    // The whole history, folded, gives the state the scheduler reports.
    txflow::store::LiveState state;
    std::vector<std::string> types;
    (void)store->read(0, [&](const txflow::store::Record& r) {
        REQUIRE(state.apply(r.type, r.payload));
        types.emplace_back(txflow::store::to_string(static_cast<txflow::store::RecordType>(r.type)));
        return true;
    });
    CHECK(types == std::vector<std::string>{"saga_created", "saga_state", "step_state", "step_state", "step_state",
                                            "step_state", "saga_state", "saga_state", "step_state", "step_state",
                                            "saga_state"});
    const auto& live = state.sagas.at("w1");
    CHECK(live.state == State::compensated);
    CHECK(live.steps[0].state == State::compensated);
    CHECK(live.steps[1].state == State::failed);
    CHECK(live.steps[1].last_error == "no");
    CHECK(nlohmann::json::parse(live.data) == nlohmann::json({{"x", 1}}));

    // A snapshot of that state decodes to the same thing.
    auto again = txflow::store::LiveState::decode(state.encode());
    REQUIRE(again);
    CHECK(again->sagas.at("w1").steps[1].last_error == "no");
}

TEST_CASE_METHOD(Fixture, "a saga started before start() waits for it; a restart on the same store resumes the saga",
                 "[saga][store]") {
    std::atomic<int> second_calls{0};
    auto make = [&] {
        return Saga("resume")
            .step("one", book(ledger, 1), unbook(ledger, 1))
            .step(
                "two",
                [&](StepContext& ctx) {
                    ++second_calls;
                    // First process: block until the scheduler shuts down.
                    while (second_calls == 1 && !ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
                    if (second_calls == 1) return;  // interrupted: its effect never lands
                    ledger.apply(ctx.idempotency_key(), 2);
                },
                unbook(ledger, 2))
            .build();
    };
    {
        auto h = scheduler().start_saga(make(), nlohmann::json::object(), "job-7");
        CHECK(h.info()->state == State::pending);
        scheduler().start();  // not the fixture's start(): that waits until idle, and step two blocks
        while (second_calls == 0) std::this_thread::sleep_for(1ms);
        scheduler().stop(0ms);
        CHECK(h.info()->state == State::running);
        CHECK(h.info()->steps[1].state == State::running);
    }
    // The second process: what it recovered, before it starts; then the saga registered.
    std::optional<txflow::saga::Info> recovered;
    restart(0ms, [&](Scheduler& second) {
        recovered = second.saga("job-7");
        second.register_saga(make());
    });
    REQUIRE(recovered);
    CHECK(recovered->state == State::running);
    auto info = finish_saga("job-7");
    REQUIRE(info);
    CHECK(info->state == State::succeeded);
    CHECK(info->steps[1].attempts == 2);  // the interrupted attempt, then the resumed one
    CHECK(second_calls == 2);
    const auto entries = ledger.entries();
    CHECK(entries.at("job-7/one").applied == 1);  // step one did not run again
    CHECK(entries.at("job-7/two").applied == 1);
    CHECK(ledger.total() == 3);
}

TEST_CASE_METHOD(Fixture, "1,000 sagas in parallel with random failures all end succeeded or compensated, balanced",
                 "[saga][stress]") {
    constexpr int kSagas = 1000;
    constexpr int kSteps = 4;
    std::vector<txflow::saga::Step> steps;
    for (int i = 0; i < kSteps; ++i) {
        txflow::saga::Step s;
        s.name = "s" + std::to_string(i);
        s.action = [this, i](StepContext& ctx) {
            // Deterministic per (saga, step, attempt): about 1 in 8 attempts fail.
            const auto h =
                std::hash<std::string>{}(std::string(ctx.idempotency_key()) + "#" + std::to_string(ctx.attempt()));
            if (h % 8 == 0) throw std::runtime_error("random failure");
            ledger.apply(ctx.idempotency_key(), 1 + i);
        };
        s.compensation = [this, i](StepContext& ctx) {
            const auto h =
                std::hash<std::string>{}(std::string(ctx.idempotency_key()) + "#" + std::to_string(ctx.attempt()));
            if (h % 8 == 0) throw std::runtime_error("random compensation failure");
            ledger.revert(original_key(ctx), 1 + i);
        };
        s.retry = txflow::retry::fixed(0ms).attempts(2);
        steps.push_back(std::move(s));
    }
    txflow::saga::Options opts;
    opts.compensation_retry = txflow::retry::fixed(0ms).attempts(10);
    auto def = txflow::saga::Definition::create("stress", std::move(steps), opts);
    REQUIRE(def);
    start();
    std::vector<std::thread> starters;
    for (int t = 0; t < 4; ++t) {
        starters.emplace_back([&, t] {
            for (int i = t; i < kSagas; i += 4) scheduler().start_saga(*def, {{"i", i}}, "s-" + std::to_string(i));
        });
    }
    for (auto& t : starters) t.join();
    int succeeded = 0;
    int compensated = 0;
    for (int i = 0; i < kSagas; ++i) {
        auto info = finish_saga("s-" + std::to_string(i));
        REQUIRE(info);
        if (info->state == State::succeeded) ++succeeded;
        else if (info->state == State::compensated) ++compensated;
        else FAIL("saga s-" << i << " ended " << txflow::saga::to_string(info->state));
    }
    CHECK(succeeded + compensated == kSagas);
    CHECK(succeeded > 0);
    CHECK(compensated > 0);
    // Balanced: a succeeded saga's effects all stand, once; a compensated one's are all undone.
    long expected = 0;
    const auto entries = ledger.entries();
    for (const auto& info : scheduler().sagas()) {
        for (std::size_t k = 0; k < info.steps.size(); ++k) {
            const std::string key = info.id + "/s" + std::to_string(k);
            auto it = entries.find(key);
            const int applied = it == entries.end() ? 0 : it->second.applied;
            const int reverted = it == entries.end() ? 0 : it->second.reverted;
            CHECK(applied <= 1);  // never twice
            if (info.state == State::succeeded) {
                CHECK(applied == 1);
                CHECK(reverted == 0);
                expected += static_cast<long>(k) + 1;
            } else {
                CHECK(reverted == applied);
            }
        }
    }
    CHECK(ledger.total() == expected);
    CHECK(scheduler().sagas(State::succeeded).size() == static_cast<std::size_t>(succeeded));
}

TEST_CASE_METHOD(RetentionFixture,
                 "finished sagas are forgotten after the retention, with their keys; parked ones are kept", "[saga]") {
    auto& sched = scheduler();
    std::atomic<int> runs{0};
    auto ok = Saga("ok").step("a", [&](StepContext&) { ++runs; }).no_compensation().build();
    auto parked = Saga("parked")
                      .step(
                          "a", [](StepContext&) {}, [](StepContext&) { throw std::runtime_error("no undo"); })
                      .compensation_retry(txflow::retry::fixed(0ms).attempts(1))
                      .step("b", [](StepContext&) { throw std::runtime_error("fail"); })
                      .no_compensation()
                      .build();
    // Both end at the start instant (no step waits on the clock): the retention counts from there.
    start();
    (void)sched.start_saga(ok, {}, "k1");
    (void)sched.start_saga(parked, {}, "p1");
    sched.wait_idle();  // the task that finished each saga has returned: purge skips a busy one
    REQUIRE(sched.saga("k1")->state == State::succeeded);
    REQUIRE(sched.saga("p1")->state == State::compensation_failed);
    // The scheduler purges too, every minute of steady time, on a worker:
    // wait_idle() lets each of those finish before purge_sagas() is called.
    clock().advance(30min);
    sched.wait_idle();
    CHECK(sched.purge_sagas() == 0);  // too young
    clock().advance(30min);
    sched.wait_idle();
    CHECK(sched.purge_sagas() == 0);  // exactly the retention: not older
    REQUIRE(sched.saga("k1"));
    clock().jump_wall(30s);  // older now; the wall clock alone moved, so the minute's purge is not due
    CHECK(sched.purge_sagas() == 1);
    CHECK_FALSE(sched.saga("k1"));
    CHECK(sched.saga("p1"));
    // The key is free again: a new instance runs.
    auto again = sched.start_saga(ok, {}, "k1");
    CHECK(again.created());
    REQUIRE(finish_saga("k1")->state == State::succeeded);
    CHECK(runs == 2);
    // A restart on the same store agrees.
    restart();
    CHECK(scheduler().sagas().size() == 2);
}

TEST_CASE_METHOD(Fixture, "a step that timed out for good is compensated: its attempt may have acted", "[saga]") {
    std::atomic<bool> acted{false};
    auto saga = Saga("slow-pay")
                    .step("debit", book(ledger, 5), unbook(ledger, 5))
                    .step(
                        "credit",
                        [&](StepContext& ctx) {
                            ledger.apply(ctx.idempotency_key(), 7);  // acts, then overruns
                            acted = true;
                            while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
                        },
                        unbook(ledger, 7))
                    .timeout(20ms)
                    .build();
    start();
    (void)scheduler().start_saga(saga, nlohmann::json::object(), "slow-pay-1");
    REQUIRE(eventually([&] { return acted.load(); }));
    clock().advance(20ms);  // the deadline, armed before the attempt ran
    auto info = finish_saga("slow-pay-1");
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "step 'credit' failed: timed out after 20ms");
    CHECK(info->steps[1].state == State::compensated);
    CHECK(info->steps[0].state == State::compensated);
    CHECK(ledger.total() == 0);
}

}  // namespace saga_test
