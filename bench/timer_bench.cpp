// timer_bench: core-layer figures, one `name value` line each (the names are a
// contract: bench/RESULTS.md and scripts read them).
//
//   schedule_cancel_ops_per_s      TimerHeap: add 1,000,000 timers (random
//                                  deadlines over 10 s), then cancel all of them
//                                  in random order. Every add and every cancel
//                                  counts as one op (2,000,000 ops a round), so
//                                  add+cancel pairs per second are half of it.
//   executor_tasks_per_s           1,000,000 empty tasks through txflow::Executor
//                                  (2 workers), submitted from one thread, timed
//                                  until wait_idle() returns.
//   baseline_executor_tasks_per_s  the same through a plain mutex +
//                                  condition_variable + std::deque pool (below),
//                                  measured in the same run.
//
// Each figure is the median of a few rounds. Build in Release.
// Adding a figure: write one `double figure_xxx()` and one line in kFigures.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "txflow/core/executor.hpp"
#include "txflow/core/timer_heap.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRounds = 5;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class F>
double median_of(int rounds, F&& round) {
    std::vector<double> values;
    for (int i = 0; i < rounds; ++i) values.push_back(round());
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// ------------------------------------------------------------ timer heap

double figure_schedule_cancel_ops_per_s() {
    constexpr std::size_t kTimers = 1'000'000;
    std::mt19937_64 rng(42);
    const auto base = Clock::now();
    std::vector<txflow::SteadyTime> dues(kTimers);
    std::uniform_int_distribution<std::int64_t> offset_us(0, 10'000'000);
    for (auto& d : dues) d = base + std::chrono::microseconds{offset_us(rng)};
    std::vector<std::size_t> cancel_order(kTimers);
    for (std::size_t i = 0; i < kTimers; ++i) cancel_order[i] = i;
    std::shuffle(cancel_order.begin(), cancel_order.end(), rng);
    std::vector<txflow::TimerHeap::Handle> handles(kTimers);

    txflow::TimerHeap heap;
    return median_of(kRounds, [&] {
        std::size_t cancelled = 0;
        const auto start = Clock::now();
        for (std::size_t i = 0; i < kTimers; ++i) handles[i] = heap.add(dues[i], i);
        for (const std::size_t i : cancel_order) {
            if (heap.cancel(handles[i])) ++cancelled;
        }
        const double s = seconds_since(start);
        if (cancelled != kTimers || !heap.empty()) {
            std::fprintf(stderr, "timer_bench: cancel failed\n");
            std::exit(1);
        }
        return static_cast<double>(2 * kTimers) / s;
    });
}

// ------------------------------------------------------------ executors

constexpr std::size_t kTasks = 1'000'000;
constexpr std::size_t kWorkers = 2;

// The baseline: the pool most people write first.
class PlainPool {
public:
    explicit PlainPool(std::size_t workers) {
        for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
    }
    ~PlainPool() {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        work_cv_.notify_all();
        for (auto& t : threads_) t.join();
    }
    void submit(std::function<void()> f) {
        {
            const std::lock_guard lock(mutex_);
            tasks_.push_back(std::move(f));
            ++pending_;
        }
        work_cv_.notify_one();
    }
    void wait_idle() {
        std::unique_lock lock(mutex_);
        idle_cv_.wait(lock, [&] { return pending_ == 0; });
    }

private:
    void loop() {
        for (;;) {
            std::function<void()> f;
            {
                std::unique_lock lock(mutex_);
                work_cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
                if (tasks_.empty()) return;
                f = std::move(tasks_.front());
                tasks_.pop_front();
            }
            f();
            {
                const std::lock_guard lock(mutex_);
                if (--pending_ == 0) idle_cv_.notify_all();
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable work_cv_;
    std::condition_variable idle_cv_;
    std::deque<std::function<void()>> tasks_;
    std::size_t pending_ = 0;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

double round_txflow_executor() {
    txflow::ExecutorOptions options;
    options.workers = kWorkers;
    txflow::Executor ex(options);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kTasks; ++i) ex.submit(txflow::Task{.run = [] {}});
    ex.wait_idle();
    return static_cast<double>(kTasks) / seconds_since(start);
}

double round_plain_pool() {
    PlainPool pool(kWorkers);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kTasks; ++i) pool.submit([] {});
    pool.wait_idle();
    return static_cast<double>(kTasks) / seconds_since(start);
}

// Both pools are measured in interleaved rounds, so a noisy neighbour or a
// frequency change hits both alike.
struct ExecutorFigures {
    double txflow = 0;
    double baseline = 0;
};

const ExecutorFigures& executor_figures() {
    static const ExecutorFigures figures = [] {
        std::vector<double> a;
        std::vector<double> b;
        for (int i = 0; i < kRounds; ++i) {
            a.push_back(round_txflow_executor());
            b.push_back(round_plain_pool());
        }
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        return ExecutorFigures{a[a.size() / 2], b[b.size() / 2]};
    }();
    return figures;
}

double figure_executor_tasks_per_s() { return executor_figures().txflow; }
double figure_baseline_executor_tasks_per_s() { return executor_figures().baseline; }

struct Figure {
    std::string_view name;
    double (*measure)();
};

// The lead adds lateness_p50_us / _p99_us / _max_us and bytes_per_job here.
constexpr Figure kFigures[] = {
    {"schedule_cancel_ops_per_s", figure_schedule_cancel_ops_per_s},
    {"executor_tasks_per_s", figure_executor_tasks_per_s},
    {"baseline_executor_tasks_per_s", figure_baseline_executor_tasks_per_s},
};

}  // namespace

int main(int argc, char** argv) {
    // Optional arguments: names of the figures to print (default: all).
    for (const Figure& f : kFigures) {
        bool wanted = argc <= 1;
        for (int i = 1; i < argc; ++i) wanted = wanted || f.name == argv[i];
        if (!wanted) continue;
        std::printf("%.*s %.0f\n", static_cast<int>(f.name.size()), f.name.data(), f.measure());
        std::fflush(stdout);
    }
    return 0;
}
