// burst_bench: many jobs due in the same second (issue 15). One `name value`
// line each (the names are a contract: bench/RESULTS.md and
// bench/run_burst_bench.sh read them).
//
//   burst_lateness_p50_us / _p99_us / _max_us
//       10,000 jobs on `* * * * * *`, 2 workers, real clock, ~3 s: each body
//       records system_clock::now() minus its due second under a mutex (the
//       shape of bench/robfig/main.go, which prints the same figures for
//       robfig/cron v3 with a robfig_ prefix).
//   dispatch_ns_per_fire
//       What the timer thread spends per fire of a burst: timer pop, next()
//       for the following fire, re-arm, hand-off to the pool. 10,000 jobs on
//       `* * * * * *` (the burst above) under a manual clock; the one worker is held by a gate
//       job while the timer thread dispatches a whole due second into the
//       executor's queue, so the figure is the dispatch alone. Timed by the
//       clock itself: the span between the timer thread's first and last
//       clock reads of the round (its first read after the clock moved, its
//       read before it went back to sleep), divided by the fires. Median of 5
//       rounds after a warm-up round.
//
// Build in Release. Arguments: names of the figures to print (default: all).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "txflow/scheduler.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

std::shared_ptr<spdlog::logger> null_logger() {
    return std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
}

struct Lateness {
    double p50 = 0;
    double p99 = 0;
    double max = 0;
};

Lateness burst_lateness() {
    constexpr std::size_t kJobs = 10'000;
    std::mutex mutex;
    std::vector<long long> samples;  // microseconds
    samples.reserve(kJobs * 5);
    {
        txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(2).logger(null_logger())};
        for (std::size_t i = 0; i < kJobs; ++i) {
            (void)sched.job("j" + std::to_string(i)).cron("* * * * * *").run([&](txflow::JobContext& ctx) {
                const auto late = std::chrono::system_clock::now() - ctx.scheduled_time();
                const std::lock_guard lock(mutex);
                samples.push_back(std::chrono::duration_cast<microseconds>(late).count());
            });
        }
        sched.start();
        std::this_thread::sleep_for(3s);
        (void)sched.stop(1s);
    }
    if (samples.size() < kJobs) {
        std::fprintf(stderr, "burst_bench: only %zu fires in 3 s\n", samples.size());
        std::exit(1);
    }
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) {
        return static_cast<double>(samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]);
    };
    std::fprintf(stderr, "(burst: %zu fires)\n", samples.size());
    return {at(0.50), at(0.99), static_cast<double>(samples.back())};
}

// A manual clock that also notes, in real time, when the scheduler's timer
// thread reads it (the thread that asks for generation() besides the bench's).
class TimingClock final : public txflow::Clock {
public:
    explicit TimingClock(txflow::WallTime wall) : wall_(wall) {}
    [[nodiscard]] txflow::SteadyTime steady_now() const override {
        if (std::this_thread::get_id() == timer_thread_.load(std::memory_order_relaxed)) {
            const auto t = std::chrono::steady_clock::now();
            if (first_read_ == std::chrono::steady_clock::time_point{}) first_read_ = t;
            last_read_ = t;
        }
        const std::lock_guard lock(mutex_);
        return steady_;
    }
    [[nodiscard]] txflow::WallTime wall_now() const override {
        const std::lock_guard lock(mutex_);
        return wall_;
    }
    [[nodiscard]] bool is_manual() const override { return true; }
    [[nodiscard]] std::uint64_t generation() const override {
        if (std::this_thread::get_id() != bench_thread_) timer_thread_.store(std::this_thread::get_id());
        return generation_.load();
    }
    std::uint64_t subscribe(std::function<void()> callback) override {
        const std::lock_guard lock(mutex_);
        callbacks_.emplace_back(++last_id_, std::move(callback));
        return last_id_;
    }
    void unsubscribe(std::uint64_t id) override {
        const std::lock_guard lock(mutex_);
        std::erase_if(callbacks_, [id](const auto& e) { return e.first == id; });
    }
    // Moves time and returns at once; the timer thread's reads are timed
    // from here on (read them back after Scheduler::wait_idle()).
    void advance(std::chrono::milliseconds d) {
        std::vector<std::function<void()>> callbacks;
        {
            const std::lock_guard lock(mutex_);
            steady_ += d;
            wall_ += d;
            first_read_ = last_read_ = {};
            ++generation_;
            for (auto& [id, cb] : callbacks_) callbacks.push_back(cb);
        }
        for (auto& cb : callbacks) cb();
    }
    [[nodiscard]] std::chrono::nanoseconds timer_span() const { return last_read_ - first_read_; }

private:
    std::thread::id bench_thread_ = std::this_thread::get_id();
    mutable std::atomic<std::thread::id> timer_thread_{};
    mutable std::mutex mutex_;
    // Written by the timer thread only, read after wait_idle() (which syncs).
    mutable std::chrono::steady_clock::time_point first_read_{};
    mutable std::chrono::steady_clock::time_point last_read_{};
    txflow::SteadyTime steady_{std::chrono::hours{1}};
    txflow::WallTime wall_;
    std::atomic<std::uint64_t> generation_{0};
    std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks_;
    std::uint64_t last_id_ = 0;
};

double dispatch_ns_per_fire() {
    constexpr std::size_t kJobs = 10'000;
    constexpr int kRounds = 6;  // the first one warms up (pools and buffers grow)
    // Half a second past a second, so each advance(1s) makes exactly one fire due.
    TimingClock clock{txflow::WallTime{std::chrono::sys_days{std::chrono::year{2027} / 1 / 1}} + 500ms};
    txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(1).clock(clock).logger(null_logger())};
    std::atomic<bool> open{false};
    auto gate = sched.job("gate").after(std::chrono::hours{24}).run([&](txflow::JobContext&) {
        while (!open.load()) std::this_thread::sleep_for(1ms);
    });
    for (std::size_t i = 0; i < kJobs; ++i)
        (void)sched.job("d" + std::to_string(i)).cron("* * * * * *").run([](txflow::JobContext&) {});
    sched.start();
    sched.wait_idle();
    std::vector<double> per_fire;
    for (int round = 0; round < kRounds; ++round) {
        open.store(false);
        (void)gate.trigger_now();  // holds the worker: the burst only queues
        clock.advance(1s);
        // The dispatch of 10,000 fires takes a few ms; the gate opens well after.
        std::this_thread::sleep_for(1s);
        open.store(true);
        sched.wait_idle();
        if (round > 0) per_fire.push_back(static_cast<double>(clock.timer_span().count()) / static_cast<double>(kJobs));
    }
    (void)sched.stop(1s);
    std::sort(per_fire.begin(), per_fire.end());
    std::fprintf(stderr, "(dispatch_ns_per_fire rounds:");
    for (double v : per_fire) std::fprintf(stderr, " %.0f", v);
    std::fprintf(stderr, ")\n");
    return per_fire[per_fire.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    // A figure is wanted when named (any burst_lateness_* name brings all three).
    const auto wanted = [&](std::string_view name) {
        if (argc <= 1) return true;
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == name || (arg.starts_with("burst_") && name.starts_with("burst_"))) return true;
        }
        return false;
    };
    if (wanted("burst_lateness_p50_us")) {
        const Lateness l = burst_lateness();
        std::printf("burst_lateness_p50_us %.0f\nburst_lateness_p99_us %.0f\nburst_lateness_max_us %.0f\n", l.p50,
                    l.p99, l.max);
        std::fflush(stdout);
    }
    if (wanted("dispatch_ns_per_fire")) std::printf("dispatch_ns_per_fire %.0f\n", dispatch_ns_per_fire());
    return 0;
}
