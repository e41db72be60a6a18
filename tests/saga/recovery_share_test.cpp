// Recovered sagas take at most a share of the workers (issue 13: after a
// restart, 15-24 recovered sagas took every worker and due jobs starved).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

namespace recovery_share_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::SagaRef;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::store::MemoryStore;
using txflow::test::quiet_logger;

namespace {

constexpr auto kWait = 20s;
constexpr int kSagas = 4;

// Steps that hold their worker until released (or until the scheduler stops).
class Gate {
public:
    void hold(const StepContext& ctx) {
        std::unique_lock lock(mutex_);
        ++inside_;
        max_inside_ = std::max(max_inside_, inside_);
        changed_.notify_all();
        changed_.wait(lock, ctx.stop_token(), [&] { return open_; });
        --inside_;
    }
    void open() {
        const std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    bool wait_inside(int n) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, kWait, [&] { return inside_ >= n; });
    }
    int inside() {
        const std::lock_guard lock(mutex_);
        return inside_;
    }
    int max_inside() {
        const std::lock_guard lock(mutex_);
        return max_inside_;
    }

private:
    std::mutex mutex_;
    std::condition_variable_any changed_;
    int inside_ = 0;
    int max_inside_ = 0;
    bool open_ = false;
};

SagaRef long_saga(Gate& gate) {
    return Saga("long").step("hold", [&gate](StepContext& ctx) { gate.hold(ctx); }).no_compensation().build();
}

// A store holding kSagas "long" sagas, each recorded running its step: a
// scheduler was stopped while they all ran.
std::shared_ptr<MemoryStore> stopped_inside_their_steps() {
    auto store = std::make_shared<MemoryStore>();
    Gate gate;
    Scheduler first(SchedulerOptions{}.workers(kSagas).logger(quiet_logger()).store(store));
    first.start();
    for (int i = 0; i < kSagas; ++i) first.start_saga(long_saga(gate), {}, "s" + std::to_string(i));
    REQUIRE(gate.wait_inside(kSagas));
    first.stop(0ms);
    return store;
}

}  // namespace

TEST_CASE("recovered sagas leave workers to due jobs after a restart", "[saga][recovery]") {
    auto store = stopped_inside_their_steps();

    Gate gate;
    Scheduler sched(SchedulerOptions{}.workers(2).logger(quiet_logger()).store(store));
    sched.register_saga(long_saga(gate));
    std::promise<void> job_ran;
    sched.job("plain").after(1ms).run([&](txflow::JobContext&) { job_ran.set_value(); });
    sched.start();
    REQUIRE(gate.wait_inside(1));
    // One of the two workers is the recovered sagas' (max(1, 2 / 2)); the job gets the other.
    CHECK(job_ran.get_future().wait_for(kWait) == std::future_status::ready);
    CHECK(gate.inside() == 1);
    gate.open();
    for (int i = 0; i < kSagas; ++i) {
        auto info = sched.wait_saga("s" + std::to_string(i), kWait);
        REQUIRE(info);
        CHECK(info->state == State::succeeded);
    }
    CHECK(gate.max_inside() == 1);
}

TEST_CASE("SchedulerOptions::saga_recovery_workers sets the share", "[saga][recovery]") {
    auto store = stopped_inside_their_steps();
    Gate gate;
    Scheduler sched(SchedulerOptions{}.workers(4).saga_recovery_workers(3).logger(quiet_logger()).store(store));
    sched.register_saga(long_saga(gate));
    sched.start();
    REQUIRE(gate.wait_inside(3));
    gate.open();
    for (int i = 0; i < kSagas; ++i) CHECK(sched.wait_saga("s" + std::to_string(i), kWait)->state == State::succeeded);
    CHECK(gate.max_inside() == 3);
}

}  // namespace recovery_share_test
