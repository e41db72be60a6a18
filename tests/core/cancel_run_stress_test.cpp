// Scheduler::cancel_run from other threads while runs are queued, start and
// end on the workers: every run ends exactly once, a cancelled one as
// `cancelled` (never retried), and the scheduler stays consistent.

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"

namespace cancel_run_stress_test {

using namespace std::chrono_literals;

namespace {

// Finished events per (job, fire), and started fires, off the test thread.
class Outcomes : public txflow::Listener {
public:
    void on_event(const txflow::Event& e) override {
        if (e.kind != txflow::EventKind::finished && e.kind != txflow::EventKind::started) return;
        const std::lock_guard lock(mutex_);
        if (e.kind == txflow::EventKind::started) {
            started_.push_back({std::string(e.job), e.fire_time});
            return;
        }
        finished_[{std::string(e.job), e.fire_time.time_since_epoch().count()}].push_back(e.outcome);
    }
    std::map<std::pair<std::string, std::int64_t>, std::vector<txflow::Outcome>> finished() const {
        const std::lock_guard lock(mutex_);
        return finished_;
    }
    std::vector<std::pair<std::string, txflow::WallTime>> started() const {
        const std::lock_guard lock(mutex_);
        return started_;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::int64_t>, std::vector<txflow::Outcome>> finished_;
    std::vector<std::pair<std::string, txflow::WallTime>> started_;
};

}  // namespace

TEST_CASE("cancel_run races with queued, starting and ending runs", "[scheduler][cancel_run][stress]") {
    auto outcomes = std::make_shared<Outcomes>();
    txflow::Scheduler sched{
        txflow::SchedulerOptions{}.workers(2).logger(txflow::test::quiet_logger()).listener(outcomes)};
    constexpr int kJobs = 8;
    constexpr int kTriggers = 40;
    for (int i = 0; i < kJobs; ++i)
        sched.job("job-" + std::to_string(i))
            .every(1h)
            .retry(txflow::retry::fixed(1ms).attempts(2))
            .run([](txflow::JobContext& ctx) {
                for (int spin = 0; spin < 200 && !ctx.stop_token().stop_requested(); ++spin)
                    std::this_thread::sleep_for(50us);
                if (ctx.stop_token().stop_requested()) throw std::runtime_error("stopped");
            });
    sched.start();

    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> cancelled{0};
    std::vector<std::thread> cancellers;
    for (int t = 0; t < 2; ++t) {
        cancellers.emplace_back([&] {
            std::size_t seen = 0;
            while (!done) {
                const auto started = outcomes->started();
                for (; seen < started.size(); ++seen)
                    if (sched.cancel_run(started[seen].first, started[seen].second)) ++cancelled;
                // Queued runs too: the fire of a trigger_now is the wall time it was called at.
                const txflow::WallTime now = sched.clock().wall_now();
                for (int i = 0; i < kJobs; ++i)
                    if (sched.cancel_run("job-" + std::to_string(i), now)) ++cancelled;
                std::this_thread::yield();
            }
        });
    }
    for (int round = 0; round < kTriggers; ++round)
        for (int i = 0; i < kJobs; ++i) (void)sched.find("job-" + std::to_string(i))->trigger_now();
    sched.wait_idle();
    done = true;
    for (auto& t : cancellers) t.join();
    sched.wait_idle();

    std::size_t runs = 0;
    std::size_t cancelled_runs = 0;
    for (const auto& [key, list] : outcomes->finished()) {
        INFO(key.first << " @ " << key.second);
        // Fires of the same job can coincide in the same millisecond: each run ends once, and a
        // cancelled one never comes back as a retry.
        for (const txflow::Outcome o : list) {
            ++runs;
            CHECK((o == txflow::Outcome::succeeded || o == txflow::Outcome::cancelled));
            cancelled_runs += o == txflow::Outcome::cancelled ? 1 : 0;
        }
    }
    std::uint64_t run_count = 0;
    for (const auto& info : sched.jobs()) run_count += info.run_count;
    CHECK(runs == run_count);  // one finished event per run: no retry of a cancelled run, none lost
    CHECK(cancelled_runs == cancelled.load());
    CHECK(cancelled_runs > 0);
    (void)sched.stop(1s);
}

}  // namespace cancel_run_stress_test
