// How long the test kit takes to run a month of hourly cron fires through a
// SchedulerFixture (issue 16: "well under a second"). Prints the median of
// `runs` (argv[1], default 5) as testkit_month_of_hourly_fires_ms.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "txflow/testing.hpp"

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        txflow::testing::SchedulerFixture f;
        f.setup([](txflow::Scheduler& s) { s.job("hourly").cron("0 0 * * * *").run([](txflow::JobContext&) {}); });
        const auto t0 = std::chrono::steady_clock::now();
        f.advance_to(txflow::testing::wall_time("2026-02-01T00:00:00Z"));
        const auto t1 = std::chrono::steady_clock::now();
        if (f.fired("hourly") != 31 * 24) {
            std::fprintf(stderr, "testkit_bench: %zu fires, expected %d\n", f.fired("hourly"), 31 * 24);
            return 1;
        }
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("testkit_month_of_hourly_fires_ms %.1f\n", ms[ms.size() / 2]);
    return 0;
}
