// Executor::queue_stats(): queued, running, limit and the oldest wait per queue.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "txflow/core/executor.hpp"

namespace executor_stats_test {

using namespace std::chrono_literals;

TEST_CASE("queue_stats reports each queue's backlog, running tasks, limit and oldest wait", "[executor]") {
    txflow::Executor ex({.workers = 2});
    const auto one = ex.queue("one", 1);
    std::mutex m;
    std::condition_variable cv;
    bool started = false;
    bool release = false;
    REQUIRE(ex.submit({.run =
                           [&] {
                               std::unique_lock lock(m);
                               started = true;
                               cv.notify_all();
                               cv.wait(lock, [&] { return release; });
                           },
                       .queue = one}) == txflow::SubmitResult::accepted);
    {
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, 10s, [&] { return started; }));
    }
    for (int i = 0; i < 3; ++i) REQUIRE(ex.submit({.run = [] {}, .queue = one}) == txflow::SubmitResult::accepted);

    // The coarse clock ticks every few ms: wait (bounded) until the backlog has aged.
    auto stats = ex.queue_stats();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (stats[one].oldest_wait == 0ns && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
        stats = ex.queue_stats();
    }
    REQUIRE(stats.size() == 2);
    CHECK(stats[txflow::kDefaultQueue].name == "default");
    CHECK(stats[txflow::kDefaultQueue].queued == 0);
    CHECK(stats[one].name == "one");
    CHECK(stats[one].limit == 1);
    CHECK(stats[one].running == 1);
    CHECK(stats[one].queued == 3);
    CHECK(stats[one].oldest_wait > 0ns);
    {
        const std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    ex.wait_idle();
    stats = ex.queue_stats();
    CHECK(stats[one].queued == 0);
    CHECK(stats[one].oldest_wait == 0ns);
}

}  // namespace executor_stats_test
