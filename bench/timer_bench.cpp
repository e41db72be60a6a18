// timer_bench: core-layer figures, one `name value` line each (the names are a
// contract: bench/RESULTS.md and scripts read them).
//
//   schedule_cancel_ops_per_s      IntrusiveHeap (the scheduler's timer heap):
//                                  add 1,000,000 timers (random deadlines over
//                                  10 s), then cancel all of them in random order. Unit: ops, where every add
//                                  and every cancel counts as one op (2,000,000
//                                  ops a round); add+cancel pairs per second are
//                                  half of it. Random order is the harder case
//                                  (each cancel lands on a cold element); the same
//                                  run also prints the insertion-order figure
//                                  to stderr, for reference only.
//   executor_tasks_per_s           1,000,000 empty tasks through txflow::Executor
//                                  (2 workers), submitted from one thread, timed
//                                  until wait_idle() returns.
//   baseline_executor_tasks_per_s  the same through a plain mutex +
//                                  condition_variable + std::deque pool (below),
//                                  measured in the same run.
//   lateness_p50_us / _p99_us / _max_us
//                                  txflow::Scheduler, real clock, 2 workers:
//                                  10,000 one-shot after(d) jobs with empty
//                                  bodies, deadlines spread evenly over 2 s.
//                                  Lateness = steady time read first thing in
//                                  the body minus the intended time (steady
//                                  time just before run() plus d; so it also
//                                  counts the registration itself).
//   e2e_lateness_p50_us / _p99_us  the same, under load: one thread per core
//                                  spins beside the scheduler for the whole
//                                  round (a busy service's machine).
//   bytes_per_job                  live heap bytes the scheduler holds per
//                                  registered one-shot job (100,000 jobs due in
//                                  an hour, started scheduler, captureless
//                                  callable, SSO names): every allocation and
//                                  free on any thread between before and after,
//                                  through the operator new/delete below.
//                                  "Excluding the user's callable" (issue 3)
//                                  means what the callable itself owns (a
//                                  large capture's heap block); the 32-byte
//                                  std::function object the record holds is
//                                  the scheduler's storage and is counted.
//
// Each figure is the median of a few rounds. Build in Release.
// Adding a figure: write one `double figure_xxx()` and one line in kFigures.

#include <malloc.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>

#include <atomic>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/intrusive_heap.hpp"
#include "txflow/core/executor.hpp"
#include "txflow/scheduler.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

// ------------------------------------------------------------ heap accounting
// Live heap bytes, counted only while g_count_heap is set (bytes_per_job). The
// delta between two readings is (allocated - freed) in between, whenever the
// freed blocks were allocated, so switching counting on and off is exact.
namespace {
std::atomic<bool> g_count_heap{false};
std::atomic<long long> g_live_bytes{0};

void* counted_alloc(std::size_t n, std::size_t align) {
    if (n == 0) n = 1;
    void* p =
        align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n);
    if (p == nullptr) throw std::bad_alloc();
    if (g_count_heap.load(std::memory_order_relaxed))
        g_live_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
    return p;
}

void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    if (g_count_heap.load(std::memory_order_relaxed))
        g_live_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
    std::free(p);
}
}  // namespace

void* operator new(std::size_t n) {
    return counted_alloc(n, 0);
}
void* operator new[](std::size_t n) {
    return counted_alloc(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n, 0);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n, 0);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept {
    counted_free(p);
}
void operator delete[](void* p) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    counted_free(p);
}

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
    std::vector<std::size_t> in_order(kTimers);
    for (std::size_t i = 0; i < kTimers; ++i) in_order[i] = i;
    std::vector<std::size_t> random_order = in_order;
    std::shuffle(random_order.begin(), random_order.end(), rng);
    struct Timer {
        std::uint32_t heap_pos = txflow::kNotInHeap;
    };
    std::vector<Timer> timers(kTimers);

    // One heap for all rounds of an order, as a scheduler keeps its heap: the
    // first round also pays for growing the vectors; the median is a warm round.
    const auto ops_per_s = [&]<std::size_t Arity = 4>(const std::vector<std::size_t>& cancel_order) {
        txflow::IntrusiveHeap<Timer, Arity> heap;
        return median_of(kRounds, [&] {
            std::size_t cancelled = 0;
            const auto start = Clock::now();
            for (std::size_t i = 0; i < kTimers; ++i) heap.add(timers[i], dues[i]);
            for (const std::size_t i : cancel_order) {
                if (heap.contains(timers[i])) {
                    heap.cancel(timers[i]);
                    ++cancelled;
                }
            }
            const double s = seconds_since(start);
            if (cancelled != kTimers || !heap.empty()) {
                std::fprintf(stderr, "timer_bench: cancel failed\n");
                std::exit(1);
            }
            return static_cast<double>(2 * kTimers) / s;  // add and cancel: one op each
        });
    };
    const double random = ops_per_s(random_order);
    const double insertion = ops_per_s(in_order);
    // The baseline, same run: the binary heap the scheduler used before.
    const double binary = ops_per_s.template operator()<2>(random_order);
    std::fprintf(stderr,
                 "(schedule_cancel_ops_per_s, cancel in insertion order: %.0f; binary heap, random order: %.0f)\n",
                 insertion, binary);
    return random;
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
// frequency change hits both alike. Each pool first gets one untimed warm-up
// round (thread start-up, first-touch page faults of the allocator's arena);
// then every round measures the baseline first and txflow second.
struct ExecutorFigures {
    double txflow = 0;
    double baseline = 0;
};

const ExecutorFigures& executor_figures() {
    static const ExecutorFigures figures = [] {
        std::vector<double> a;
        std::vector<double> b;
        // Neither pool's freed backlog may be handed back to the kernel between
        // rounds: the next round (of either pool) would pay the page faults.
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        (void)round_plain_pool();  // warm-up, untimed
        (void)round_txflow_executor();
        for (int i = 0; i < kRounds; ++i) {
            b.push_back(round_plain_pool());
            a.push_back(round_txflow_executor());
        }
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);  // glibc's default
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        return ExecutorFigures{a[a.size() / 2], b[b.size() / 2]};
    }();
    return figures;
}

double figure_executor_tasks_per_s() {
    return executor_figures().txflow;
}
double figure_baseline_executor_tasks_per_s() {
    return executor_figures().baseline;
}

// ------------------------------------------------------------ scheduler

std::shared_ptr<spdlog::logger> null_logger() {
    return std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
}

struct LatenessFigures {
    double p50 = 0;
    double p99 = 0;
    double max = 0;
};

// Keeps `threads` cores busy until destroyed (the "loaded machine" of
// e2e_lateness_*): plain arithmetic, no allocation, no locks.
class CpuLoad {
public:
    explicit CpuLoad(unsigned threads) {
        for (unsigned i = 0; i < threads; ++i)
            threads_.emplace_back([this] {
                std::uint64_t x = 1;
                while (!stop_.load(std::memory_order_relaxed)) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                sink_.fetch_add(x, std::memory_order_relaxed);
            });
    }
    ~CpuLoad() {
        stop_.store(true);
        for (auto& t : threads_) t.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sink_{0};
    std::vector<std::thread> threads_;
};

LatenessFigures round_lateness(unsigned load_threads = 0) {
    constexpr std::size_t kJobs = 10'000;
    constexpr auto kSpread = std::chrono::milliseconds{2000};
    constexpr auto kLead = std::chrono::milliseconds{200};  // registration finishes before the first fire
    struct Sample {
        Clock::time_point intended{};
        Clock::time_point actual{};
    };
    std::vector<Sample> samples(kJobs);
    std::atomic<std::size_t> done{0};
    {
        const CpuLoad load(load_threads);
        txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(kWorkers).logger(null_logger())};
        sched.start();
        for (std::size_t i = 0; i < kJobs; ++i) {
            const auto d = kLead + std::chrono::milliseconds{static_cast<long long>(i) * kSpread.count() /
                                                             static_cast<long long>(kJobs)};
            Sample* s = &samples[i];
            std::string name = "l";
            name += std::to_string(i);
            auto builder = sched.job(std::move(name));
            builder.after(d);
            s->intended = Clock::now() + d;
            builder.run([s, &done](txflow::JobContext&) {
                s->actual = Clock::now();
                done.fetch_add(1, std::memory_order_release);
            });
        }
        const auto give_up = Clock::now() + kLead + kSpread + std::chrono::seconds{10};
        while (done.load(std::memory_order_acquire) < kJobs && Clock::now() < give_up)
            std::this_thread::sleep_for(std::chrono::milliseconds{5});
        (void)sched.stop(std::chrono::seconds{1});
    }
    if (done.load() != kJobs) {
        std::fprintf(stderr, "timer_bench: only %zu of %zu jobs ran\n", done.load(), kJobs);
        std::exit(1);
    }
    std::vector<double> us(kJobs);
    for (std::size_t i = 0; i < kJobs; ++i)
        us[i] = std::chrono::duration<double, std::micro>(samples[i].actual - samples[i].intended).count();
    std::sort(us.begin(), us.end());
    return {us[kJobs / 2], us[kJobs * 99 / 100], us.back()};
}

// Three rounds; each figure is the median over them.
LatenessFigures median_lateness(unsigned load_threads) {
    std::vector<double> p50;
    std::vector<double> p99;
    std::vector<double> mx;
    for (int i = 0; i < 3; ++i) {
        const auto r = round_lateness(load_threads);
        p50.push_back(r.p50);
        p99.push_back(r.p99);
        mx.push_back(r.max);
    }
    for (auto* v : {&p50, &p99, &mx}) std::sort(v->begin(), v->end());
    return LatenessFigures{p50[1], p99[1], mx[1]};
}
const LatenessFigures& lateness_figures() {
    static const LatenessFigures figures = median_lateness(0);
    return figures;
}
// The same, with one spinning thread per core beside the scheduler.
const LatenessFigures& e2e_lateness_figures() {
    static const LatenessFigures figures = median_lateness(std::max(1u, std::thread::hardware_concurrency()));
    return figures;
}

double figure_lateness_p50_us() {
    return lateness_figures().p50;
}
double figure_lateness_p99_us() {
    return lateness_figures().p99;
}
double figure_lateness_max_us() {
    return lateness_figures().max;
}
double figure_e2e_lateness_p50_us() {
    return e2e_lateness_figures().p50;
}
double figure_e2e_lateness_p99_us() {
    return e2e_lateness_figures().p99;
}

double round_bytes_per_job() {
    constexpr std::size_t kJobs = 100'000;
    std::vector<std::string> names;
    names.reserve(kJobs);
    for (std::size_t i = 0; i < kJobs; ++i) names.push_back(std::string("b") += std::to_string(i));  // SSO: no heap
    txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(kWorkers).logger(null_logger())};
    sched.start();
    g_count_heap.store(true);
    const long long before = g_live_bytes.load();
    for (std::size_t i = 0; i < kJobs; ++i)
        (void)sched.job(names[i]).after(std::chrono::hours{1}).run([](txflow::JobContext&) {});
    const long long after = g_live_bytes.load();
    g_count_heap.store(false);
    (void)sched.stop(std::chrono::seconds{0});
    return static_cast<double>(after - before) / static_cast<double>(kJobs);
}

double figure_bytes_per_job() {
    return median_of(3, round_bytes_per_job);
}

struct Figure {
    std::string_view name;
    double (*measure)();
};

// The lead adds lateness_p50_us / _p99_us / _max_us and bytes_per_job here.
constexpr Figure kFigures[] = {
    {"schedule_cancel_ops_per_s", figure_schedule_cancel_ops_per_s},
    {"executor_tasks_per_s", figure_executor_tasks_per_s},
    {"baseline_executor_tasks_per_s", figure_baseline_executor_tasks_per_s},
    {"lateness_p50_us", figure_lateness_p50_us},
    {"lateness_p99_us", figure_lateness_p99_us},
    {"lateness_max_us", figure_lateness_max_us},
    {"e2e_lateness_p50_us", figure_e2e_lateness_p50_us},
    {"e2e_lateness_p99_us", figure_e2e_lateness_p99_us},
    {"bytes_per_job", figure_bytes_per_job},
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
