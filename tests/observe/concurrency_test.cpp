// Many threads on the same cells: totals are exact, lookups race safely (run under TSan in CI).

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "txflow/observe/metrics.hpp"

namespace concurrency_test {

using txflow::observe::Registry;

TEST_CASE("concurrent increments, observations and lookups give exact totals", "[observe][stress]") {
    Registry r;
    auto& runs = r.counter("s_runs_total", "runs", {"job"});
    auto& depth = r.gauge("s_depth", "depth");
    auto& lat = r.histogram("s_seconds", "lat", {"job"}, {0.5, 1.5});
    constexpr int kThreads = 8;
    constexpr int kPerThread = 20'000;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    std::vector<std::string> scrapes(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            auto& shared = runs.with({"shared"});
            auto& own = runs.with({"job" + std::to_string(t % 4)});  // two threads race to create each
            auto& h = lat.with({"shared"});
            for (int i = 0; i < kPerThread; ++i) {
                shared.inc();
                own.inc();
                depth.with({}).add(1);
                h.observe(static_cast<double>(i % 3));  // 0, 1, 2: one per bucket
                if (i % 5000 == 0) scrapes[static_cast<std::size_t>(t)] = r.expose();
            }
        });
    }
    go = true;
    for (auto& t : threads) t.join();
    constexpr auto kTotal = static_cast<std::uint64_t>(kThreads) * kPerThread;
    CHECK(runs.with({"shared"}).value() == kTotal);
    for (int j = 0; j < 4; ++j) CHECK(runs.with({"job" + std::to_string(j)}).value() == 2 * kPerThread);
    CHECK(depth.with({}).value() == static_cast<double>(kTotal));
    auto& h = lat.with({"shared"});
    CHECK(h.count() == kTotal);
    CHECK(h.bucket(0) + h.bucket(1) + h.bucket(2) == kTotal);
    CHECK(h.bucket(0) >= kTotal / 3);
    CHECK(runs.series() == 5);
    for (const auto& s : scrapes) CHECK(s.find("# TYPE s_runs_total counter") != std::string::npos);
}

}  // namespace concurrency_test
