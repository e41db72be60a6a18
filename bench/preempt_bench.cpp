// preempt_bench: how fast urgent work gets a worker held by preemptible
// low-priority runs (issue 20), one `name value` line each.
//
//   preempt_start_latency_us   txflow::Scheduler, real clock, 2 workers, both
//                              busy with preemptible Priority::low runs that
//                              poll their stop token every 1 ms (and, asked to
//                              yield, save a checkpoint and return). A
//                              Priority::critical job is made due
//                              (trigger_now()); the figure is the time from
//                              just before that call to the first line of the
//                              critical job's body: p99 over 1,000 tries.
//                              Target <= 2,000 us.
//   preempt_start_latency_p50_us / _max_us   the same tries' median and worst.
//
// Each try starts from fresh low runs (a run preempted three times is not
// preemptible any more: the starvation cap), so every try preempts.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "txflow/scheduler.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 2;
constexpr int kTries = 1000;

struct Low {
    std::atomic<bool> polling{false};  // a fresh run is in its polling loop
    std::atomic<bool> busy{false};     // a run is queued or running
};

void wait_for(const std::atomic<bool>& flag) {
    while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

}  // namespace

int main() {
    auto logger = std::make_shared<spdlog::logger>("preempt_bench");  // no sinks: quiet
    txflow::Scheduler sched(txflow::SchedulerOptions{}.workers(kWorkers).logger(logger));
    std::array<Low, kWorkers> lows;
    std::vector<txflow::JobHandle> low_handles;
    for (int i = 0; i < kWorkers; ++i) {
        Low& low = lows[static_cast<std::size_t>(i)];
        low_handles.push_back(sched.job("low-" + std::to_string(i))
                                  .after(24h)
                                  .priority(txflow::Priority::low)
                                  .preemptible()
                                  .run([&low](txflow::JobContext& ctx) {
                                      if (ctx.checkpoint()) {  // resumed after yielding: done
                                          low.busy.store(false, std::memory_order_release);
                                          return;
                                      }
                                      low.polling.store(true, std::memory_order_release);
                                      while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
                                      low.polling.store(false, std::memory_order_release);
                                      if (ctx.preempted()) {
                                          ctx.checkpoint("1");
                                          return;  // comes back at once, and ends there
                                      }
                                      low.busy.store(false, std::memory_order_release);
                                  }));
    }
    std::atomic<Clock::time_point> started{};
    std::atomic<bool> critical_done{false};
    auto critical = sched.job("critical").after(24h).priority(txflow::Priority::critical).run([&](txflow::JobContext&) {
        started.store(Clock::now(), std::memory_order_release);
        critical_done.store(true, std::memory_order_release);
    });
    sched.start();

    std::vector<double> latencies;
    latencies.reserve(kTries);
    for (int t = 0; t < kTries; ++t) {
        // Every worker busy with a polling low run: start a fresh run for
        // each low job whose last run ended (last try's victim resumed and
        // ended; a fresh run that saw a stale checkpoint ends too: again).
        for (std::size_t i = 0; i < lows.size(); ++i) {
            while (!lows[i].polling.load(std::memory_order_acquire)) {
                if (!lows[i].busy.exchange(true, std::memory_order_acq_rel)) low_handles[i].trigger_now();
                std::this_thread::yield();
            }
        }
        critical_done.store(false, std::memory_order_release);
        const auto t0 = Clock::now();
        critical.trigger_now();
        wait_for(critical_done);
        latencies.push_back(
            std::chrono::duration<double, std::micro>(started.load(std::memory_order_acquire) - t0).count());
    }
    std::sort(latencies.begin(), latencies.end());
    const auto at = [&](double q) {
        return latencies[std::min(latencies.size() - 1,
                                  static_cast<std::size_t>(q * static_cast<double>(latencies.size())))];
    };
    std::printf("preempt_start_latency_us %.0f\n", at(0.99));
    std::printf("preempt_start_latency_p50_us %.0f\n", at(0.5));
    std::printf("preempt_start_latency_max_us %.0f\n", latencies.back());
    (void)sched.stop(0ms);
    return 0;
}
