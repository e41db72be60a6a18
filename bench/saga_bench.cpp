// saga_bench: what the saga engine adds to each step, in memory. One
// `name value` line per figure (names are contracts read by RESULTS.md):
//
//   saga_step_overhead_ns  the engine's cost of one more step: sagas of 20
//                          empty steps minus sagas of 10, per extra step.
//                          Each step has a compensation (none is needed) and
//                          writes its two records (running, succeeded) through
//                          the journal into the default MemoryStore, with the
//                          snapshots the journal takes as the store grows.
//   saga_step_overhead_ns_with_data  the same with each step writing one key
//                          into the saga's data (so each record carries it).
//   saga_fixed_overhead_ns_per_saga  what a saga costs besides its steps:
//                          creation, its own records, the hand-off to a
//                          worker and the wake-up of the thread that waits.
//
// Scheduler with one worker; 20,000 sagas a round; median of 5 rounds.
// Build in Release. Target: saga_step_overhead_ns <= 2000.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "txflow/scheduler.hpp"

namespace {

constexpr int kSagas = 20'000;
constexpr int kRounds = 5;

// Nanoseconds per saga of kSteps steps.
double round_ns_per_saga(int kSteps, bool write_data) {
    txflow::Scheduler sched(txflow::SchedulerOptions{}.workers(1).logger(std::make_shared<spdlog::logger>("bench")));
    auto saga = txflow::Saga("bench");
    std::vector<txflow::saga::Step> steps;
    for (int i = 0; i < kSteps; ++i) {
        txflow::saga::Step s;
        s.name = "step" + std::to_string(i);
        if (write_data) s.action = [i](txflow::saga::StepContext& ctx) { ctx.data()["k"] = i; };
        else s.action = [](txflow::saga::StepContext&) {};
        s.compensation = [](txflow::saga::StepContext&) {};
        steps.push_back(std::move(s));
    }
    auto def = txflow::saga::Definition::create("bench", std::move(steps));
    if (!def) std::abort();
    sched.start();
    std::vector<std::string> ids;
    ids.reserve(kSagas);
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < kSagas; ++i) ids.push_back(sched.start_saga(*def, nlohmann::json::object()).id());
    for (const auto& id : ids) {
        auto info = sched.wait_saga(id, std::chrono::minutes(1));
        if (!info || info->state != txflow::saga::State::succeeded) std::abort();
    }
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    return std::chrono::duration<double, std::nano>(elapsed).count() / kSagas;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main() {
    double fixed = 0;
    for (const bool data : {false, true}) {
        std::vector<double> per_step;
        std::vector<double> per_saga;
        for (int r = 0; r < kRounds; ++r) {
            const double ten = round_ns_per_saga(10, data);
            const double twenty = round_ns_per_saga(20, data);
            per_step.push_back((twenty - ten) / 10);
            per_saga.push_back(ten - 10 * (twenty - ten) / 10);
        }
        std::printf("%s %.0f\n", data ? "saga_step_overhead_ns_with_data" : "saga_step_overhead_ns", median(per_step));
        if (!data) fixed = median(per_saga);
    }
    std::printf("saga_fixed_overhead_ns_per_saga %.0f\n", fixed);
    return 0;
}
