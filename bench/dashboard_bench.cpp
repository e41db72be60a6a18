// dashboard_bench: how long the dashboard's API takes to answer a jobs
// listing (the first page of 50, sorted by name, and a filtered one) with
// 10,000 jobs registered, over real HTTP on loopback. Prints the median
// in milliseconds as `dashboard_jobs_list_ms` (target < 50).

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "txflow/http/dashboard.hpp"
#include "txflow/scheduler.hpp"

int main() {
    using namespace std::chrono_literals;
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
    return 0;
}
