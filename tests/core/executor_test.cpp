#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/core/executor.hpp"

namespace executor_test {

using namespace std::chrono_literals;
using txflow::Executor;
using txflow::ExecutorOptions;
using txflow::OverflowPolicy;
using txflow::Priority;
using txflow::SubmitResult;
using txflow::Task;
using txflow::test::eventually;

namespace {

// Task's positional fields, without -Wmissing-field-initializers noise.
Task make_task(std::function<void()> run, std::function<void()> dropped = {}, Priority priority = Priority::normal,
               txflow::QueueId queue = txflow::kDefaultQueue) {
    return Task{.run = std::move(run), .dropped = std::move(dropped), .priority = priority, .queue = queue};
}

// A door tasks wait at until the test opens it.
class Gate {
public:
    void open() {
        {
            const std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

// Records the order tasks ran in.
class Log {
public:
    void add(int v) {
        const std::lock_guard lock(mutex_);
        values_.push_back(v);
    }
    std::vector<int> values() {
        const std::lock_guard lock(mutex_);
        return values_;
    }

private:
    std::mutex mutex_;
    std::vector<int> values_;
};

ExecutorOptions one_worker(std::chrono::milliseconds aging = std::chrono::hours{1}) {
    ExecutorOptions o;
    o.workers = 1;
    o.aging_step = aging;
    return o;
}

// Occupies the executor's only worker until the gate opens.
void block_worker(Executor& ex, Gate& gate) {
    REQUIRE(ex.submit(make_task([&gate] { gate.wait(); }, {}, Priority::critical)) == SubmitResult::accepted);
    REQUIRE(eventually([&] { return ex.running() == 1 && ex.queued() == 0; }));
}

void update_max(std::atomic<int>& max, int value) {
    int seen = max.load();
    while (value > seen && !max.compare_exchange_weak(seen, value)) {
    }
}

}  // namespace

TEST_CASE("executor: runs tasks and reports its size", "[core][executor]") {
    ExecutorOptions o;
    o.workers = 3;
    Executor ex(o);
    CHECK(ex.workers() == 3);
    std::atomic<int> n{0};
    for (int i = 0; i < 100; ++i) REQUIRE(ex.submit(make_task([&n] { ++n; })) == SubmitResult::accepted);
    ex.wait_idle();
    CHECK(n == 100);
    CHECK(ex.queued() == 0);
    CHECK(ex.running() == 0);
}

TEST_CASE("executor: workers = 0 means hardware concurrency", "[core][executor]") {
    Executor ex;
    CHECK(ex.workers() >= 1);
}

TEST_CASE("executor: higher priority first, FIFO within a priority", "[core][executor]") {
    Executor ex(one_worker());
    Gate gate;
    Log log;
    block_worker(ex, gate);
    const Priority prios[] = {Priority::low, Priority::high, Priority::normal, Priority::critical,
                              Priority::low, Priority::high, Priority::normal, Priority::critical};
    for (int i = 0; i < 8; ++i) {
        REQUIRE(ex.submit(make_task([&log, i] { log.add(i); }, {}, prios[i])) == SubmitResult::accepted);
    }
    CHECK(ex.queued() == 8);
    gate.open();
    ex.wait_idle();
    CHECK(log.values() == std::vector<int>{3, 7, 1, 5, 2, 6, 0, 4});
}

TEST_CASE("executor: FIFO within a priority across named queues", "[core][executor]") {
    Executor ex(one_worker());
    const auto qa = ex.queue("a", 4);
    const auto qb = ex.queue("b", 0);
    Gate gate;
    Log log;
    block_worker(ex, gate);
    for (int i = 0; i < 6; ++i) {
        const auto q = i % 3 == 0 ? txflow::kDefaultQueue : (i % 3 == 1 ? qa : qb);
        REQUIRE(ex.submit(make_task([&log, i] { log.add(i); }, {}, Priority::normal, q)) == SubmitResult::accepted);
    }
    gate.open();
    ex.wait_idle();
    CHECK(log.values() == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("executor: aging lets an old low-priority task pass a fresh high one", "[core][executor]") {
    Executor ex(one_worker(20ms));
    Gate gate;
    Log log;
    block_worker(ex, gate);
    REQUIRE(ex.submit(make_task([&log] { log.add(0); }, {}, Priority::low)) == SubmitResult::accepted);
    // 10 aging steps: low (0 + 10) beats high (2 + 0). Any extra delay on a
    // slow machine ages both by the same amount, so the gap only holds.
    std::this_thread::sleep_for(200ms);
    REQUIRE(ex.submit(make_task([&log] { log.add(2); }, {}, Priority::high)) == SubmitResult::accepted);
    gate.open();
    ex.wait_idle();
    CHECK(log.values() == std::vector<int>{0, 2});
}

TEST_CASE("executor: queue limit is never exceeded", "[core][executor]") {
    ExecutorOptions o;
    o.workers = 8;
    Executor ex(o);
    const auto q = ex.queue("db", 2);
    CHECK(ex.queue("db", 2) == q);  // same name, same id
    CHECK(ex.queue("other", 1) != q);
    std::atomic<int> current{0};
    std::atomic<int> max{0};
    std::atomic<int> done{0};
    for (int i = 0; i < 64; ++i) {
        const auto prio = static_cast<Priority>(i % txflow::kPriorityLevels);
        REQUIRE(ex.submit(make_task(
                    [&] {
                        update_max(max, ++current);
                        std::this_thread::sleep_for(1ms);
                        --current;
                        ++done;
                    },
                    {}, prio, q)) == SubmitResult::accepted);
    }
    ex.wait_idle();
    CHECK(done == 64);
    CHECK(max.load() <= 2);
    CHECK(max.load() >= 1);
}

TEST_CASE("executor: a saturated queue does not hold up other queues", "[core][executor]") {
    ExecutorOptions o;
    o.workers = 2;
    Executor ex(o);
    const auto q = ex.queue("slow", 1);
    Gate gate;
    std::atomic<int> slow_started{0};
    for (int i = 0; i < 3; ++i) {
        REQUIRE(ex.submit(make_task(
                    [&] {
                        ++slow_started;
                        gate.wait();
                    },
                    {}, Priority::critical, q)) == SubmitResult::accepted);
    }
    REQUIRE(eventually([&] { return slow_started == 1; }));
    // Two slow tasks wait for the queue, yet the other worker is free.
    std::atomic<bool> other_ran{false};
    REQUIRE(ex.submit(make_task([&] { other_ran = true; }, {}, Priority::low)) == SubmitResult::accepted);
    CHECK(eventually([&] { return other_ran.load(); }));
    CHECK(slow_started == 1);
    CHECK(ex.queued() == 2);
    // Raising the limit lets a waiting task start at once.
    ex.queue("slow", 2);
    CHECK(eventually([&] { return slow_started == 2; }));
    gate.open();
    ex.wait_idle();
    CHECK(slow_started == 3);
}

TEST_CASE("executor: overflow reject", "[core][executor]") {
    auto o = one_worker();
    o.max_backlog = 2;
    o.overflow = OverflowPolicy::reject;
    Executor ex(o);
    Gate gate;
    block_worker(ex, gate);
    std::atomic<int> ran{0};
    CHECK(ex.submit(make_task([&] { ++ran; })) == SubmitResult::accepted);
    CHECK(ex.submit(make_task([&] { ++ran; })) == SubmitResult::accepted);
    CHECK(ex.submit(make_task([&] { ++ran; })) == SubmitResult::rejected);
    CHECK(ex.queued() == 2);
    gate.open();
    ex.wait_idle();
    CHECK(ran == 2);
    CHECK(ex.submit(make_task([&] { ++ran; })) == SubmitResult::accepted);  // room again
    ex.wait_idle();
    CHECK(ran == 3);
}

TEST_CASE("executor: overflow drop_oldest calls the evicted task's dropped callback", "[core][executor]") {
    auto o = one_worker();
    o.max_backlog = 2;
    o.overflow = OverflowPolicy::drop_oldest;
    Executor ex(o);
    Gate gate;
    Log ran;
    Log dropped;
    block_worker(ex, gate);
    const auto task = [&](int id, Priority p) {
        return make_task([&ran, id] { ran.add(id); }, [&dropped, id] { dropped.add(id); }, p);
    };
    // Oldest, not lowest priority: 1 (high) goes before 2 (low).
    CHECK(ex.submit(task(1, Priority::high)) == SubmitResult::accepted);
    CHECK(ex.submit(task(2, Priority::low)) == SubmitResult::accepted);
    CHECK(ex.submit(task(3, Priority::normal)) == SubmitResult::accepted);
    CHECK(dropped.values() == std::vector<int>{1});
    CHECK(ex.submit(make_task([&ran] { ran.add(4); }, {}, Priority::normal)) == SubmitResult::accepted);  // drops 2
    CHECK(dropped.values() == std::vector<int>{1, 2});
    CHECK(ex.queued() == 2);
    // A dropped callback that throws is contained too.
    CHECK(ex.submit(make_task([&ran] { ran.add(5); }, [] { throw std::runtime_error("x"); })) ==
          SubmitResult::accepted);
    CHECK(ex.submit(make_task([&ran] { ran.add(6); })) == SubmitResult::accepted);  // drops 3
    CHECK(ex.submit(make_task([&ran] { ran.add(7); })) == SubmitResult::accepted);  // drops 4 (no callback)
    CHECK(ex.submit(make_task([&ran] { ran.add(8); })) == SubmitResult::accepted);  // drops 5 (throws)
    CHECK(dropped.values() == std::vector<int>{1, 2, 3});
    gate.open();
    ex.wait_idle();
    CHECK(ran.values() == std::vector<int>{7, 8});
}

TEST_CASE("executor: overflow block waits for room", "[core][executor]") {
    auto o = one_worker();
    o.max_backlog = 1;
    o.overflow = OverflowPolicy::block;
    Executor ex(o);
    Gate gate;
    Log ran;
    block_worker(ex, gate);
    CHECK(ex.submit(make_task([&ran] { ran.add(1); })) == SubmitResult::accepted);
    std::atomic<bool> returned{false};
    SubmitResult result = SubmitResult::rejected;
    std::thread submitter([&] {
        result = ex.submit(make_task([&ran] { ran.add(2); }));
        returned = true;
    });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(returned.load());
    gate.open();
    submitter.join();
    CHECK(result == SubmitResult::accepted);
    ex.wait_idle();
    CHECK(ran.values() == std::vector<int>{1, 2});
}

TEST_CASE("executor: shutdown releases a submitter blocked on a full backlog", "[core][executor]") {
    auto o = one_worker();
    o.max_backlog = 1;
    o.overflow = OverflowPolicy::block;
    Executor ex(o);
    Gate gate;
    block_worker(ex, gate);
    std::atomic<int> ran{0};
    CHECK(ex.submit(make_task([&] { ++ran; })) == SubmitResult::accepted);
    std::atomic<bool> returned{false};
    SubmitResult result = SubmitResult::accepted;
    std::thread submitter([&] {
        result = ex.submit(make_task([&] { ++ran; }));
        returned = true;
    });
    std::this_thread::sleep_for(20ms);
    std::thread stopper([&] { ex.shutdown(); });
    CHECK(eventually([&] { return returned.load(); }));
    gate.open();
    stopper.join();
    submitter.join();
    CHECK(result == SubmitResult::stopped);
    CHECK(ran == 1);  // the queued task still ran
}

TEST_CASE("executor: an exception escaping a task does not kill the worker", "[core][executor]") {
    Executor ex(one_worker());
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; ++i) {
        REQUIRE(ex.submit(make_task([] { throw std::runtime_error("boom"); })) == SubmitResult::accepted);
        REQUIRE(ex.submit(make_task([] { throw 42; })) == SubmitResult::accepted);
        REQUIRE(ex.submit(make_task([&] { ++ran; })) == SubmitResult::accepted);
    }
    ex.wait_idle();
    CHECK(ran == 10);
    CHECK(ex.running() == 0);
}

TEST_CASE("executor: shutdown drains the queue, then refuses", "[core][executor]") {
    ExecutorOptions o;
    o.workers = 2;
    Executor ex(o);
    const auto q = ex.queue("limited", 1);
    std::atomic<int> ran{0};
    for (int i = 0; i < 50; ++i) {
        REQUIRE(ex.submit(make_task(
                    [&] {
                        std::this_thread::sleep_for(100us);
                        ++ran;
                    },
                    {}, static_cast<Priority>(i % 4), i % 2 == 0 ? q : txflow::kDefaultQueue)) ==
                SubmitResult::accepted);
    }
    ex.shutdown();
    CHECK(ran == 50);
    CHECK(ex.queued() == 0);
    CHECK(ex.submit(make_task([&] { ++ran; })) == SubmitResult::stopped);
    ex.shutdown();   // idempotent
    ex.wait_idle();  // returns at once
    CHECK(ran == 50);
}

TEST_CASE("executor: unknown queue id is rejected", "[core][executor]") {
    Executor ex(one_worker());
    CHECK(ex.submit(make_task([] {}, {}, Priority::normal, 999)) == SubmitResult::rejected);
}

TEST_CASE("executor: a task may submit more tasks", "[core][executor]") {
    ExecutorOptions o;
    o.workers = 2;
    Executor ex(o);
    std::atomic<int> ran{0};
    REQUIRE(ex.submit(make_task([&] {
        for (int i = 0; i < 10; ++i) ex.submit(make_task([&] { ++ran; }));
        ++ran;
    })) == SubmitResult::accepted);
    // wait_idle may return between the parent and its children only if the
    // parent had finished: children are queued before the parent returns.
    ex.wait_idle();
    CHECK(ran == 11);
}

TEST_CASE("executor: stress, several submitters and wait_idle", "[core][executor][stress]") {
    ExecutorOptions o;
    o.workers = 4;
    o.aging_step = 1ms;
    o.max_backlog = GENERATE(std::size_t{0}, std::size_t{64});
    Executor ex(o);
    const auto q1 = ex.queue("q1", 1);
    const auto q2 = ex.queue("q2", 3);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 5000;
    std::atomic<int> ran{0};
    std::atomic<int> not_accepted{0};
    std::atomic<int> q1_current{0};
    std::atomic<int> q1_max{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const auto prio = static_cast<Priority>((i + t) % txflow::kPriorityLevels);
                Task task;
                switch (i % 3) {
                    case 0: task = make_task([&] { ++ran; }, {}, prio); break;
                    case 1:
                        task = make_task(
                            [&] {
                                update_max(q1_max, ++q1_current);
                                --q1_current;
                                ++ran;
                            },
                            {}, prio, q1);
                        break;
                    default: task = make_task([&] { ++ran; }, {}, prio, q2); break;
                }
                // Catch2 v2 assertions are not thread-safe: count, check later.
                if (ex.submit(std::move(task)) != SubmitResult::accepted) ++not_accepted;
                if (i % 1000 == 0) (void)ex.queued();
            }
        });
    }
    std::thread idler([&] {
        for (int i = 0; i < 20; ++i) ex.wait_idle();
    });
    for (auto& t : threads) t.join();
    idler.join();
    ex.wait_idle();
    CHECK(not_accepted == 0);
    CHECK(ran == kThreads * kPerThread);
    CHECK(q1_max.load() == 1);
    CHECK(ex.queued() == 0);
    CHECK(ex.running() == 0);
}

// ---- submit_batch: a batch is a sequence of submits under one lock.

namespace {

ExecutorOptions with_backlog(std::size_t max_backlog, OverflowPolicy overflow = OverflowPolicy::block) {
    auto o = one_worker();
    o.max_backlog = max_backlog;
    o.overflow = overflow;
    return o;
}

Task logged(Log& log, int id, Priority p = Priority::normal, Log* dropped = nullptr) {
    return make_task([&log, id] { log.add(id); },
                     dropped ? std::function<void()>([dropped, id] { dropped->add(id); }) : std::function<void()>(), p);
}

}  // namespace

TEST_CASE("executor batch: priorities across the batch, FIFO within one", "[core][executor][batch]") {
    for (const std::size_t backlog : {std::size_t{0}, std::size_t{100}}) {  // the inbox path and the locked path
        CAPTURE(backlog);
        Executor ex(with_backlog(backlog));
        Gate gate;
        block_worker(ex, gate);
        Log ran;
        std::vector<Task> tasks;
        tasks.push_back(logged(ran, 1, Priority::low));
        tasks.push_back(logged(ran, 2, Priority::high));
        tasks.push_back(logged(ran, 3, Priority::normal));
        tasks.push_back(logged(ran, 4, Priority::high));
        tasks.push_back(logged(ran, 5, Priority::low));
        std::vector<SubmitResult> results(tasks.size(), SubmitResult::stopped);
        CHECK(ex.submit_batch(tasks, results) == 5);
        for (auto r : results) CHECK(r == SubmitResult::accepted);
        CHECK(ex.queued() == 5);
        gate.open();
        ex.wait_idle();
        CHECK(ran.values() == std::vector<int>{2, 4, 3, 1, 5});
    }
}

TEST_CASE("executor batch: bad priority or queue rejects that task only", "[core][executor][batch]") {
    for (const std::size_t backlog : {std::size_t{0}, std::size_t{100}}) {
        CAPTURE(backlog);
        Executor ex(with_backlog(backlog));
        Log ran;
        std::vector<Task> tasks;
        tasks.push_back(logged(ran, 1));
        tasks.push_back(logged(ran, 2));
        tasks.back().queue = 42;  // no such queue
        tasks.push_back(logged(ran, 3));
        tasks.back().priority = static_cast<Priority>(9);
        tasks.push_back(logged(ran, 4));
        std::vector<SubmitResult> results(tasks.size());
        CHECK(ex.submit_batch(tasks, results) == 2);
        CHECK(results == std::vector<SubmitResult>{SubmitResult::accepted, SubmitResult::rejected,
                                                   SubmitResult::rejected, SubmitResult::accepted});
        ex.wait_idle();
        CHECK(ran.values() == std::vector<int>{1, 4});
    }
}

TEST_CASE("executor batch: reject applies per task once the backlog is full", "[core][executor][batch]") {
    Executor ex(with_backlog(2, OverflowPolicy::reject));
    Gate gate;
    block_worker(ex, gate);
    Log ran;
    std::vector<Task> tasks;
    for (int i = 1; i <= 4; ++i) tasks.push_back(logged(ran, i));
    std::vector<SubmitResult> results(tasks.size());
    CHECK(ex.submit_batch(tasks, results) == 2);
    CHECK(results == std::vector<SubmitResult>{SubmitResult::accepted, SubmitResult::accepted, SubmitResult::rejected,
                                               SubmitResult::rejected});
    gate.open();
    ex.wait_idle();
    CHECK(ran.values() == std::vector<int>{1, 2});
}

TEST_CASE("executor batch: drop_oldest evicts for each task, within the batch too", "[core][executor][batch]") {
    Executor ex(with_backlog(2, OverflowPolicy::drop_oldest));
    Gate gate;
    block_worker(ex, gate);
    Log ran;
    Log dropped;
    REQUIRE(ex.submit(logged(ran, 1, Priority::normal, &dropped)) == SubmitResult::accepted);
    std::vector<Task> tasks;
    for (int i = 2; i <= 5; ++i) tasks.push_back(logged(ran, i, Priority::normal, &dropped));
    std::vector<SubmitResult> results(tasks.size());
    CHECK(ex.submit_batch(tasks, results) == 4);
    // 1, 2 and 3 made room for 3, 4 and 5, in order; the dropped callbacks ran on this thread.
    CHECK(dropped.values() == std::vector<int>{1, 2, 3});
    CHECK(ex.queued() == 2);
    gate.open();
    ex.wait_idle();
    CHECK(ran.values() == std::vector<int>{4, 5});
}

TEST_CASE("executor batch: block waits for room in the middle of a batch", "[core][executor][batch]") {
    Executor ex(with_backlog(2, OverflowPolicy::block));
    Gate gate;
    block_worker(ex, gate);
    Log ran;
    std::vector<Task> tasks;
    for (int i = 1; i <= 5; ++i) tasks.push_back(logged(ran, i));
    std::vector<SubmitResult> results(tasks.size());
    std::atomic<bool> returned{false};
    std::thread submitter([&] {
        CHECK(ex.submit_batch(tasks, results) == 5);
        returned = true;
    });
    REQUIRE(eventually([&] { return ex.queued() == 2; }));
    CHECK_FALSE(returned.load());  // the third task waits for room
    gate.open();
    submitter.join();
    ex.wait_idle();
    CHECK(ran.values() == std::vector<int>{1, 2, 3, 4, 5});
    for (auto r : results) CHECK(r == SubmitResult::accepted);
}

TEST_CASE("executor batch: after shutdown every task is refused as stopped", "[core][executor][batch]") {
    for (const std::size_t backlog : {std::size_t{0}, std::size_t{100}}) {
        CAPTURE(backlog);
        Executor ex(with_backlog(backlog));
        ex.shutdown();
        Log ran;
        std::vector<Task> tasks;
        tasks.push_back(logged(ran, 1));
        tasks.push_back(logged(ran, 2));
        std::vector<SubmitResult> results(tasks.size(), SubmitResult::accepted);
        CHECK(ex.submit_batch(tasks, results) == 0);
        CHECK(results == std::vector<SubmitResult>{SubmitResult::stopped, SubmitResult::stopped});
        CHECK(ran.values().empty());
    }
}

TEST_CASE("executor batch: an empty batch does nothing", "[core][executor][batch]") {
    Executor ex(with_backlog(0));
    CHECK(ex.submit_batch({}, {}) == 0);
    ex.wait_idle();
    CHECK(ex.queued() == 0);
}

}  // namespace executor_test
