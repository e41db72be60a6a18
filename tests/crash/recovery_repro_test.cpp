// Deterministic reproductions of what the crash test (crash_test.cpp) found:
// the process "dies" at a chosen record (a store that stops writing there),
// and a second scheduler recovers from what reached the "disk".
#include <catch2/catch.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/ledger.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"
#include "txflow/store/records.hpp"

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::store::MemoryStore;
using txflow::store::Ok;
using txflow::store::StoreError;
using txflow::store::StoreResult;
using txflow::test::Ledger;
using txflow::test::quiet_logger;

namespace {

// A store in front of a MemoryStore (the "disk") that dies at the first
// record `at` matches (a record as txflow::store::record_to_json shows it):
//   refuse: that record and every later one never reach the disk, as if the
//           process had been killed just before writing it;
//   hold:   submit accepts it (as a WAL buffers it), but a sync that covers it
//           blocks until die(), then fails: the process dies before fdatasync;
//   throw_up: like refuse, but that submit throws (a store must not; an
//           allocation failure might).
class DyingStore final : public txflow::store::Store {
public:
    using Match = std::function<bool(const nlohmann::json&)>;
    enum class Mode { refuse, hold, throw_up };
    DyingStore(std::shared_ptr<MemoryStore> disk, Match at, Mode mode)
        : disk_(std::move(disk)), at_(std::move(at)), mode_(mode) {}

    StoreResult<std::uint64_t> submit(std::uint16_t type, std::string_view payload) override {
        const std::lock_guard lock(mutex_);
        if (dead_) return gone();
        const std::uint64_t seq = disk_->last_seq() + held_.size() + 1;
        if (held_.empty()) {
            const txflow::store::Record r{seq, type, std::string(payload)};
            if (at_(nlohmann::json::parse(txflow::store::record_to_json(r)))) {
                if (mode_ != Mode::hold) {
                    dead_ = true;
                    changed_.notify_all();
                    if (mode_ == Mode::throw_up) throw std::runtime_error("the store threw");
                    return gone();
                }
                held_.push_back(r);
                return seq;
            }
            return disk_->submit(type, payload);
        }
        held_.push_back({seq, type, std::string(payload)});
        return seq;
    }
    StoreResult<Ok> sync(std::uint64_t seq) override {
        std::unique_lock lock(mutex_);
        if (seq > disk_->last_seq()) {
            holding_ = true;
            changed_.notify_all();
            changed_.wait(lock, [&] { return dead_; });
        }
        if (dead_ && seq > disk_->last_seq()) return gone();
        return disk_->sync(seq);
    }
    StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const txflow::store::Record&)>& v) override {
        return disk_->read(after, v);
    }
    StoreResult<std::optional<txflow::store::Snapshot>> load_snapshot() override { return disk_->load_snapshot(); }
    StoreResult<Ok> write_snapshot(std::uint64_t seq, std::string_view state) override {
        const std::lock_guard lock(mutex_);
        if (dead_ || seq > disk_->last_seq()) return gone();
        return disk_->write_snapshot(seq, state);
    }
    [[nodiscard]] std::uint64_t last_seq() const override {
        const std::lock_guard lock(mutex_);
        return disk_->last_seq() + held_.size();
    }
    [[nodiscard]] std::uint64_t bytes_since_snapshot() const override { return disk_->bytes_since_snapshot(); }

    // Hold mode: the records held are lost; the blocked sync fails.
    void die() {
        const std::lock_guard lock(mutex_);
        dead_ = true;
        held_.clear();
        changed_.notify_all();
    }
    // Blocks until the store died (refuse) or a sync waits on a held record (hold).
    bool wait_reached(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return dead_ || holding_; });
    }

private:
    static txflow::Unexpected<StoreError> gone() {
        return txflow::unexpected(StoreError{StoreError::Code::io, "the process died here"});
    }
    std::shared_ptr<MemoryStore> disk_;
    Match at_;
    Mode mode_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<txflow::store::Record> held_;
    bool dead_ = false;
    bool holding_ = false;
};

SchedulerOptions options() {
    return SchedulerOptions{}.workers(2).seed(3).logger(quiet_logger("repro"));
}

txflow::saga::StepFunction book(Ledger& ledger, long amount) {
    return [&ledger, amount](StepContext& ctx) { ledger.apply(ctx.idempotency_key(), amount); };
}
txflow::saga::StepFunction unbook(Ledger& ledger, long amount) {
    return [&ledger, amount](StepContext& ctx) {
        ledger.revert(std::string(ctx.saga_id()) + "/" + std::string(ctx.step_name()), amount);
    };
}

auto record_is(std::string saga, std::string type, std::string to, int step = -1) {
    return [=](const nlohmann::json& r) {
        return r.value("saga", "") == saga && r.value("type", "") == type && r.value("to", "") == to &&
               (step < 0 || r.value("step", -1) == step);
    };
}

}  // namespace

// Found by the crash test (iteration 26 of a long run hung): the recovering
// scheduler ran a step that had already failed for good again (beyond its
// retry budget), then threw on the illegal failed -> succeeded transition
// inside a worker task: the saga stayed running forever and wait_idle() never
// returned.
TEST_CASE("recovery after a stop between a step's `failed` record and its saga's: the saga compensates",
          "[crash][recovery]") {
    auto disk = std::make_shared<MemoryStore>();
    Ledger ledger;
    std::atomic<int> two_runs{0};
    auto make = [&] {
        return Saga("a")
            .step("one", book(ledger, 1), unbook(ledger, 1))
            .step(
                "two",
                [&](StepContext& ctx) {
                    ++two_runs;
                    if (two_runs > 1) ledger.apply(ctx.idempotency_key(), 2);  // must not happen
                    throw std::runtime_error("declined");
                },
                unbook(ledger, 2))
            .build();
    };
    {
        auto store =
            std::make_shared<DyingStore>(disk, record_is("a-1", "saga_state", "failed"), DyingStore::Mode::refuse);
        Scheduler first(options().store(store));
        first.start();
        first.start_saga(make(), nlohmann::json::object(), "a-1");
        REQUIRE(store->wait_reached(10s));
    }
    Scheduler second(options().store(disk));
    auto recovered = second.saga("a-1");
    REQUIRE(recovered);
    REQUIRE(recovered->state == State::running);
    REQUIRE(recovered->steps[1].state == State::failed);
    second.register_saga(make());
    second.start();
    auto info = second.wait_saga("a-1", 10s);
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "step 'two' failed: declined");
    CHECK(info->steps[0].state == State::compensated);
    CHECK(info->steps[1].state == State::failed);
    CHECK(two_runs == 1);  // not run again
    CHECK(ledger.total() == 0);
}

// Found by the crash test (a long run, "p-12/notify: the saga compensated but
// the effect was never reverted"): with Recovery::resume, a step whose attempt
// acted just before the crash ran again after it and failed; it was recorded
// failed, and a failed step is never compensated, so the first attempt's
// effect stayed while the saga ended compensated.
TEST_CASE("an interrupted step that fails when resumed is compensated: its cut-short attempt may have acted",
          "[crash][recovery]") {
    auto disk = std::make_shared<MemoryStore>();
    Ledger ledger;
    std::atomic<int> two_runs{0};
    auto make = [&] {
        return Saga("c")
            .step("one", book(ledger, 1), unbook(ledger, 1))
            .step(
                "two",
                [&](StepContext& ctx) {
                    if (++two_runs == 1) {
                        ledger.apply(ctx.idempotency_key(), 2);  // acts, then the process dies
                        return;
                    }
                    throw std::runtime_error("downstream unavailable");  // after the restart
                },
                unbook(ledger, 2))
            .on_recovery(txflow::saga::Recovery::resume)
            .build();
    };
    {
        auto store = std::make_shared<DyingStore>(disk, record_is("c-1", "step_state", "succeeded", 1),
                                                  DyingStore::Mode::refuse);
        Scheduler first(options().store(store));
        first.start();
        first.start_saga(make(), nlohmann::json::object(), "c-1");
        REQUIRE(store->wait_reached(10s));
    }
    REQUIRE(ledger.entries().at("c-1/two").applied == 1);
    Scheduler second(options().store(disk));
    REQUIRE(second.saga("c-1")->steps[1].state == State::running);
    second.register_saga(make());
    second.start();
    auto info = second.wait_saga("c-1", 10s);
    REQUIRE(info);
    CHECK(info->state == State::compensated);
    CHECK(info->error == "step 'two' failed: downstream unavailable");
    CHECK(two_runs == 2);
    CHECK(info->steps[1].state == State::compensated);
    const auto entries = ledger.entries();
    CHECK(entries.at("c-1/two").reverted == 1);
    CHECK(ledger.total() == 0);

    // The fixed path leaves the step running until its compensation: a
    // restart in between resumes it, and it ends the same way.
}

// Found by the crash test: wait_saga()/info() showed a state as soon as it
// was submitted to the store, before it was durable, so a caller told
// "succeeded" could find the saga compensated after a crash (with
// Recovery::compensate, a running saga whose every step succeeded is
// compensated). Queries and waiters now see only durable states.
TEST_CASE("wait_saga reports only a state that is durable", "[crash][recovery]") {
    auto disk = std::make_shared<MemoryStore>();
    Ledger ledger;
    auto make = [&] {
        return Saga("d")
            .step("one", book(ledger, 1), unbook(ledger, 1))
            .on_recovery(txflow::saga::Recovery::compensate)
            .build();
    };
    std::optional<txflow::saga::Info> seen;
    {
        auto store =
            std::make_shared<DyingStore>(disk, record_is("d-1", "saga_state", "succeeded"), DyingStore::Mode::hold);
        Scheduler first(options().store(store));
        first.start();
        first.start_saga(make(), nlohmann::json::object(), "d-1");
        REQUIRE(store->wait_reached(10s));  // the `succeeded` record waits for its fdatasync
        seen = first.wait_saga("d-1", 300ms);
        store->die();  // ... which never comes
    }
    Scheduler second(options().store(disk));
    second.register_saga(make());
    second.start();
    auto info = second.wait_saga("d-1", 10s);
    REQUIRE(seen);
    REQUIRE(info);
    INFO("wait_saga said " << txflow::saga::to_string(seen->state) << "; after the crash the saga ended "
                           << txflow::saga::to_string(info->state));
    CHECK(seen->state != State::succeeded);
}

// Found by the crash test too: the executor swallows what a task throws, and
// the scheduler's saga tasks then skipped the in-flight count's decrement, so
// an engine exception (the first bug above) hung wait_idle() forever, silently.
TEST_CASE("a saga task that throws is logged and does not wedge wait_idle()", "[crash][recovery]") {
    auto disk = std::make_shared<MemoryStore>();
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
    auto store =
        std::make_shared<DyingStore>(disk, record_is("b-1", "saga_state", "succeeded"), DyingStore::Mode::throw_up);
    Ledger ledger;
    // Leaked if wait_idle() hangs: the thread waiting in it would outlive it.
    auto* sched = new Scheduler(options().store(store).logger(std::make_shared<spdlog::logger>("b", sink)));
    sched->start();
    sched->start_saga(Saga("b").step("one", book(ledger, 1), unbook(ledger, 1)).build(), nlohmann::json::object(),
                      "b-1");
    REQUIRE(store->wait_reached(10s));
    auto idle = std::make_shared<std::promise<void>>();
    auto returned = idle->get_future();
    std::thread([sched, idle] {
        sched->wait_idle();
        idle->set_value();
    }).detach();
    const bool ok = returned.wait_for(10s) == std::future_status::ready;
    CHECK(ok);
    const auto logged = sink->last_formatted();
    CHECK(std::any_of(logged.begin(), logged.end(),
                      [](const std::string& l) { return l.find("a saga task threw") != std::string::npos; }));
    if (ok) delete sched;
}
