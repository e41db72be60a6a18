// dashboard_bench: how long the dashboard's API takes to answer a jobs
// listing (the first page of 50, sorted by name, and a filtered one) with
// 10,000 jobs registered, over real HTTP on loopback. Prints the median
// in milliseconds as `dashboard_jobs_list_ms` (target < 50).
//
// Then what serving the dashboard costs the scheduler while nobody looks:
// `dashboard_idle_overhead_ns_per_run`, ns per run of a scheduler whose
// RunHistory listener feeds a Dashboard mounted on a listening server (no
// requests) minus one without either; an empty job triggered kRuns times and
// waited for, the two alternating for kRounds rounds, medians compared. The
// spread of the rounds without the dashboard (`dashboard_idle_noise_ns_per_run`,
// half the interquartile range) says what "measurable" means on this machine.
// `run_history_ns_per_run`: RunHistory::on_event alone, a started and a
// finished event per run, called directly on one thread (its floor).

#include <httplib.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "txflow/http/dashboard.hpp"
#include "txflow/scheduler.hpp"

namespace {

using namespace std::chrono_literals;

// One scheduler (1 worker, an empty job); with_dashboard: its RunHistory
// listener and a Dashboard on a listening server that nobody asks.
struct IdleBench {
    static constexpr int kRuns = 50'000;
    std::shared_ptr<txflow::http::RunHistory> history;
    std::unique_ptr<txflow::Scheduler> sched;
    std::unique_ptr<txflow::http::Server> server;
    std::unique_ptr<txflow::http::Dashboard> dashboard;
    txflow::JobHandle job;

    explicit IdleBench(bool with_dashboard) {
        auto options = txflow::SchedulerOptions{}.workers(1).logger(
            std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()));
        if (with_dashboard) {
            history = std::make_shared<txflow::http::RunHistory>();
            options.listener(history);
        }
        sched = std::make_unique<txflow::Scheduler>(std::move(options));
        job = sched->job("idle").after(24h).run([](txflow::JobContext&) {});
        if (with_dashboard) {
            txflow::http::ServerOptions listen;
            listen.port = 0;
            server = std::make_unique<txflow::http::Server>(listen);
            dashboard = std::make_unique<txflow::http::Dashboard>(*sched, history);
            dashboard->mount(*server);
            if (!server->start()) {
                std::fprintf(stderr, "dashboard_bench: cannot start the idle server\n");
                std::exit(1);
            }
        }
        sched->start();
    }
    ~IdleBench() {
        if (server) server->stop();
        (void)sched->stop(1s);
    }
    IdleBench(const IdleBench&) = delete;
    IdleBench& operator=(const IdleBench&) = delete;

    double ns_per_run() {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kRuns; ++i) (void)job.trigger_now();
        sched->wait_idle();
        return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kRuns;
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double half_iqr(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return (v[v.size() * 3 / 4] - v[v.size() / 4]) / 2;
}

void history_direct() {
    constexpr int kRuns = 2'000'000;
    txflow::http::RunHistory history;
    txflow::Event started;
    started.kind = txflow::EventKind::started;
    started.job = "job-0042";
    txflow::Event finished = started;
    finished.kind = txflow::EventKind::finished;
    finished.outcome = txflow::Outcome::succeeded;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRuns; ++i) {
        started.fire_time = finished.fire_time = txflow::WallTime{std::chrono::milliseconds(i)};
        history.on_event(started);
        history.on_event(finished);
    }
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kRuns;
    std::printf("run_history_ns_per_run %.1f\n", ns);
}

void idle_overhead() {
    constexpr int kRounds = 15;
    IdleBench off(false);
    IdleBench on(true);
    (void)off.ns_per_run();  // warm-up
    (void)on.ns_per_run();
    std::vector<double> off_ns, on_ns;
    for (int r = 0; r < kRounds; ++r) {
        off_ns.push_back(off.ns_per_run());
        on_ns.push_back(on.ns_per_run());
    }
    const double a = median(off_ns), b = median(on_ns);
    std::fprintf(stderr, "idle: without %.1f ns/run, with the dashboard %.1f ns/run\n", a, b);
    std::printf("dashboard_idle_overhead_ns_per_run %.1f\n", b - a);
    std::printf("dashboard_idle_noise_ns_per_run %.1f\n", half_iqr(off_ns));
}

}  // namespace

int main() {
    constexpr int kJobs = 10'000;
    constexpr int kRounds = 30;
    auto history = std::make_shared<txflow::http::RunHistory>();
    txflow::Scheduler sched{txflow::SchedulerOptions{}.listener(history)};
    for (int i = 0; i < kJobs; ++i) {
        auto job = sched.job("job-" + std::to_string(i));
        if (i % 2 == 0) (void)job.cron("0 */5 * * * *").run([](txflow::JobContext&) {});
        else (void)job.every(1h).run([](txflow::JobContext&) {});
    }
    txflow::http::ServerOptions listen;
    listen.port = 0;
    txflow::http::Server server(listen);
    txflow::http::Dashboard dashboard(sched, history);
    dashboard.mount(server);
    if (!server.start()) {
        std::fprintf(stderr, "dashboard_bench: cannot start the server\n");
        return 1;
    }
    sched.start();
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(10);

    const auto median_ms = [&](const char* path) {
        std::vector<double> ms;
        for (int i = 0; i < kRounds; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            auto res = client.Get(path);
            const auto t1 = std::chrono::steady_clock::now();
            if (!res || res->status != 200) {
                std::fprintf(stderr, "dashboard_bench: GET %s failed\n", path);
                std::exit(1);
            }
            ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        return ms[ms.size() / 2];
    };
    const double list = median_ms("/api/v1/jobs?offset=0&limit=50&sort=name");
    const double next_fire = median_ms("/api/v1/jobs?offset=9950&limit=50&sort=next_fire");
    const double filtered = median_ms("/api/v1/jobs?q=job-99&limit=50");
    std::fprintf(stderr, "jobs=%d  by_next_fire_last_page_ms %.2f  filtered_ms %.2f\n", kJobs, next_fire, filtered);
    std::printf("dashboard_jobs_list_ms %.2f\n", list);
    server.stop();
    (void)sched.stop(1s);
    idle_overhead();
    history_direct();
    return 0;
}
