// A store that fails under a running scheduler (disk full, an I/O error on
// fsync): no step runs whose start could not be recorded, the saga stops where
// it was with an alert, later writes fail too (the failure is sticky), jobs
// keep running, and a restart with a working store finishes the work.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "support/ledger.hpp"
#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

namespace store_failure_test {

using namespace std::chrono_literals;
using txflow::EventKind;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::store::Ok;
using txflow::store::StoreError;
using txflow::store::StoreResult;
using txflow::test::Ledger;
using EventRecorder = txflow::testing::EventLog;
using txflow::test::eventually;
using txflow::test::quiet_logger;

namespace {

constexpr auto kWait = 20s;

// Passes everything to a MemoryStore until told to fail submits or syncs.
// What was submitted before a failed sync stays in the inner store, as a
// write that reached the disk although its fsync reported an error may.
class FaultyStore : public txflow::store::Store {
public:
    explicit FaultyStore(std::shared_ptr<txflow::store::MemoryStore> inner) : inner_(std::move(inner)) {}
    std::atomic<bool> fail_submit{false};
    std::atomic<bool> fail_sync{false};

    StoreResult<std::uint64_t> submit(std::uint16_t type, std::string_view payload) override {
        if (fail_submit)
            return txflow::unexpected(StoreError{StoreError::Code::io, "injected: no space left on device"});
        return inner_->submit(type, payload);
    }
    StoreResult<Ok> sync(std::uint64_t seq) override {
        if (fail_sync) return txflow::unexpected(StoreError{StoreError::Code::io, "injected: fdatasync: I/O error"});
        return inner_->sync(seq);
    }
    StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const txflow::store::Record&)>& visit) override {
        return inner_->read(after, visit);
    }
    StoreResult<std::optional<txflow::store::Snapshot>> load_snapshot() override { return inner_->load_snapshot(); }
    StoreResult<Ok> write_snapshot(std::uint64_t seq, std::string_view state) override {
        if (fail_submit || fail_sync) return txflow::unexpected(StoreError{StoreError::Code::io, "injected"});
        return inner_->write_snapshot(seq, state);
    }
    [[nodiscard]] std::uint64_t last_seq() const override { return inner_->last_seq(); }
    [[nodiscard]] std::uint64_t bytes_since_snapshot() const override { return inner_->bytes_since_snapshot(); }

private:
    std::shared_ptr<txflow::store::MemoryStore> inner_;
};

}  // namespace

TEST_CASE("a store failure mid-saga stops it before the next step, with an alert; a restart finishes it",
          "[saga][store]") {
    const bool sync_fails = GENERATE(false, true);
    INFO((sync_fails ? "fdatasync fails" : "the write fails"));
    auto inner = std::make_shared<txflow::store::MemoryStore>();
    auto faulty = std::make_shared<FaultyStore>(inner);
    Ledger calls;  // effects per idempotency key
    auto make = [&](FaultyStore* break_it) {
        return Saga("pay")
            .step(
                "reserve",
                [&calls, break_it, sync_fails](StepContext& ctx) {
                    calls.apply(ctx.idempotency_key(), 1);
                    // The disk goes bad while the first step runs.
                    if (break_it != nullptr) (sync_fails ? break_it->fail_sync : break_it->fail_submit) = true;
                },
                [](StepContext&) {})
            .step("charge", [&calls](StepContext& ctx) { calls.apply(ctx.idempotency_key(), 1); })
            .no_compensation()
            .build();
    };
    auto capture = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    {
        auto events = std::make_shared<EventRecorder>();
        Scheduler first(SchedulerOptions{}
                            .workers(2)
                            .logger(std::make_shared<spdlog::logger>("test", capture))
                            .listener(events)
                            .store(faulty));
        first.start();
        auto saga = make(faulty.get());
        auto h = first.start_saga(saga, nlohmann::json::object(), "order-1");
        REQUIRE(eventually([&] { return h.info()->stalled; }));
        REQUIRE(eventually([&] { return events->of(EventKind::alert).size() == 1; }));
        const auto alert = events->of(EventKind::alert)[0];
        CHECK(alert.detail == "stalled");
        CHECK_THAT(alert.error, Catch::Contains("injected"));
        const auto info = h.info();
        CHECK(info->state == State::running);           // what the store holds
        CHECK(info->steps[1].state == State::pending);  // never started
        CHECK(calls.entries().count("order-1/charge") == 0);
        CHECK(h.wait(kWait)->stalled);  // a waiter is not left hanging

        // Sticky: a new saga cannot be recorded, so it is refused, not run.
        CHECK_THROWS_WITH(first.start_saga(saga, nlohmann::json::object(), "order-2"), Catch::Contains("store"));
        CHECK_FALSE(first.saga("order-2"));

        // Jobs do not need the store to run: they keep firing.
        std::atomic<int> ticks{0};
        first.job("tick").every(5ms).run([&](txflow::JobContext&) { ++ticks; });
        CHECK(eventually([&] { return ticks >= 3; }));
        first.stop(1s);
    }
    int critical = 0;
    for (const auto& line : capture->last_formatted())
        if (line.find("the store failed") != std::string::npos) ++critical;
    CHECK(critical == 1);  // said once, not once per write

    // The disk is back: the same records, a working store.
    Scheduler second(SchedulerOptions{}.workers(2).logger(quiet_logger()).store(inner));
    second.register_saga(make(nullptr));
    second.start();
    auto info = second.wait_saga("order-1", kWait);
    REQUIRE(info);
    CHECK(info->state == State::succeeded);
    CHECK_FALSE(info->stalled);
    CHECK(calls.entries().at("order-1/charge").applied == 1);
    // A failed sync still left reserve's `succeeded` in the store: it does not
    // run again. A failed write did not: reserve runs again under the same key.
    CHECK(calls.entries().at("order-1/reserve").applied == (sync_fails ? 1 : 2));
    CHECK(calls.entries().size() == 2);  // no effect under another key
}

}  // namespace store_failure_test
