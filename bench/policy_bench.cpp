// policy_bench: overhead of the policy chain, one `name value` line (the name
// is a contract: bench/RESULTS.md and scripts read it).
//
//   chain_overhead_ns_per_run  recover + timeout(1h) + retry(fixed 100ms, 3)
//                              + skip_if_running + circuit_breaker (defaults)
//                              + rate_limit (a bucket that never runs dry)
//                              around an empty job, called directly on one
//                              thread with a standalone JobContext on the
//                              real clock, minus the same call of the bare
//                              empty job (std::function). Happy path only:
//                              nothing throws, nothing is retried.
//
// Median of 7 rounds of 2,000,000 calls. Build in Release. Target: < 1000 ns.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stop_token>
#include <vector>

#include "txflow/policy/policy.hpp"

namespace {

using namespace std::chrono_literals;
namespace policies = txflow::policies;

constexpr int kCalls = 2'000'000;
constexpr int kRounds = 7;

double ns_per_call(const txflow::JobFunction& job, txflow::JobContext& ctx) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) job(ctx);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    return std::chrono::duration<double, std::nano>(elapsed).count() / kCalls;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main() {
    auto& clock = txflow::RealClock::instance();
    auto breaker = std::make_shared<txflow::CircuitBreaker>("bench", txflow::BreakerOptions{}, clock);
    auto bucket = std::make_shared<txflow::TokenBucket>(1e12, 1e12, clock);
    static volatile int sink = 0;
    const txflow::JobFunction empty = [](txflow::JobContext&) { sink = sink + 0; };
    const txflow::JobFunction chained = policies::chain(
        empty, {policies::recover(), policies::timeout(1h), policies::retry(txflow::retry::fixed(100ms).attempts(3)),
                policies::skip_if_running(), policies::circuit_breaker(breaker), policies::rate_limit(bucket)});

    std::stop_source stop;
    txflow::JobContext ctx{"bench", clock.wall_now(), stop.get_token(), 1, clock};
    ns_per_call(chained, ctx);  // warm-up
    ns_per_call(empty, ctx);

    std::vector<double> bare;
    std::vector<double> full;
    for (int r = 0; r < kRounds; ++r) {
        bare.push_back(ns_per_call(empty, ctx));
        full.push_back(ns_per_call(chained, ctx));
    }
    if (ctx.failure_reported() || ctx.retry_requested() || ctx.skip_reported()) {
        std::fprintf(stderr, "policy_bench: the chain did not take the happy path\n");
        return 1;
    }
    const double bare_ns = median(bare);
    const double full_ns = median(full);
    std::fprintf(stderr, "bare_job_ns_per_run %.1f  full_chain_ns_per_run %.1f\n", bare_ns, full_ns);
    std::printf("chain_overhead_ns_per_run %.0f\n", full_ns - bare_ns);
    return 0;
}
