// Smallest real use of an installed txflow: parse, ask for the next fire,
// then run a job on a scheduler (which links fmt, spdlog and the rest).
#include <atomic>
#include <chrono>
#include <iostream>

#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"
#include "txflow/scheduler.hpp"

int main() {
    using namespace std::chrono;
    auto schedule = txflow::cron::parse("*/5 * * * *");
    if (!schedule) {
        std::cerr << "parse failed: " << schedule.error().message() << '\n';
        return 1;
    }
    // 2026-01-01T00:02:00Z -> 2026-01-01T00:05:00Z
    const txflow::cron::Instant after = sys_days{year{2026} / January / 1} + 2min;
    const auto fire = schedule->next(after);
    if (!fire) {
        std::cerr << "no next fire\n";
        return 1;
    }
    std::cout << "next fire of \"*/5 * * * *\": " << txflow::cron::to_rfc3339(*fire, txflow::cron::Zone::utc()) << '\n';
    if (*fire != after + 3min) return 1;

    std::atomic<int> runs{0};
    txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(1)};
    (void)sched.job("hello").after(0ms).run([&](txflow::JobContext&) { ++runs; });
    sched.start();
    sched.wait_idle();
    (void)sched.stop(1s);
    std::cout << "job runs: " << runs.load() << '\n';
    return runs.load() == 1 ? 0 : 1;
}
