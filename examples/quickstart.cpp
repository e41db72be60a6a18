// A bounded tour of the scheduler: cron, every, after and at jobs, a queue
// with a concurrency limit, a failing job, then a drain and a job table.
//
//   build/examples/quickstart [seconds]   (default 6)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "txflow/txflow.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    const auto run_for = std::chrono::seconds{argc > 1 ? std::atoi(argv[1]) : 6};

    txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(4).queue("reports", 1)};
    const auto stamp = [&sched] {
        return txflow::cron::to_rfc3339(sched.clock().wall_now(), txflow::cron::Zone::utc());
    };

    // Every two seconds, on the wall clock, in Berlin time.
    sched.job("heartbeat")
        .cron("*/2 * * * * *")
        .in_zone("Europe/Berlin")
        .priority(txflow::Priority::high)
        .run([&](txflow::JobContext& ctx) {
            std::cout << stamp() << "  " << ctx.job_name() << " (run " << ctx.run_number() << ")\n";
        });

    // Fixed rate on the monotonic clock, through a queue that runs one at a time.
    sched.job("report").every(1500ms).queue("reports").run(
        [&](txflow::JobContext& ctx) { std::cout << stamp() << "  " << ctx.job_name() << " built\n"; });

    // One-shot jobs: after a delay, and at a wall-clock instant.
    sched.job("warm-up").after(1s).run([&](txflow::JobContext&) { std::cout << stamp() << "  warm-up done\n"; });
    sched.job("deadline").at(sched.clock().wall_now() + 3s).run([&](txflow::JobContext&) {
        std::cout << stamp() << "  deadline reached\n";
    });

    // Exceptions never kill a worker: they become a failed run, logged.
    sched.job("flaky").every(2500ms).run([](txflow::JobContext&) { throw std::runtime_error("upstream said 503"); });

    // A long job that honours its stop token when the scheduler stops.
    sched.job("long").after(500ms).run([&](txflow::JobContext& ctx) {
        while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(10ms);
        std::cout << stamp() << "  long job stopped cooperatively\n";
    });

    sched.start();
    std::this_thread::sleep_for(run_for);
    const auto report = sched.stop(200ms);

    std::cout << "\nstopped: " << (report.drained ? "drained" : "not drained");
    for (const auto& name : report.still_running) std::cout << ", asked '" << name << "' to stop";
    std::cout << "\n\n";
    const auto jobs = sched.jobs();
    std::size_t name_width = 3, schedule_width = 8;
    for (const auto& info : jobs) {
        name_width = std::max(name_width, info.name.size());
        schedule_width = std::max(schedule_width, info.schedule.size());
    }
    auto pad = [](const std::string& text, std::size_t width) {
        return text + std::string(width + 2 - text.size(), ' ');
    };
    std::cout << pad("job", name_width) << pad("schedule", schedule_width) << "runs  last outcome\n";
    for (const auto& info : jobs) {
        const auto runs = std::to_string(info.run_count);
        std::cout << pad(info.name, name_width) << pad(info.schedule, schedule_width) << pad(runs, 4)
                  << txflow::to_string(info.last_outcome);
        if (!info.last_error.empty()) std::cout << " (" << info.last_error << ")";
        std::cout << '\n';
    }
}
