// A command job as a cluster::Worker handler (cluster_handler.hpp).

#include "cluster_handler.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "log.hpp"
#include "output_cap.hpp"
#include "schedule_file/to_library.hpp"
#include "txflow/cron/zone.hpp"

namespace txflow::daemon::detail {
namespace {

// Requests `stop` once `timeout` has passed, unless destroyed first.
class AttemptTimer {
public:
    AttemptTimer(std::optional<std::chrono::milliseconds> timeout, std::stop_source stop) {
        if (!timeout) return;
        thread_ = std::jthread([this, t = *timeout, stop](std::stop_token done) mutable {
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            (void)cv.wait_for(lock, done, t, [] { return false; });
            if (done.stop_requested()) return;
            fired_.store(true);
            stop.request_stop();
        });
    }
    [[nodiscard]] bool fired() const { return fired_.load(); }

private:
    std::atomic<bool> fired_{false};
    std::jthread thread_;  // last: joined before fired_ goes
};

std::mt19937_64& rng() {
    thread_local std::mt19937_64 r{std::random_device{}()};
    return r;
}

}  // namespace

std::string fire_time_of(const std::string& job, const std::optional<std::string>& key) {
    if (!key) return {};
    for (const std::string_view kind : {"cron:", "at:"}) {
        const std::string prefix = std::string(kind) + job + ":";
        if (key->rfind(prefix, 0) == 0) return key->substr(prefix.size());
    }
    return {};
}

cluster::Handler cluster_handler(const schedule_file::JobSpec& job, const CommandContext& context, std::string node) {
    auto rate = std::make_shared<LineRate>(context.settings->get()->output.lines_per_second,
                                           context.settings->get()->output.burst);
    std::optional<retry::Policy> policy;
    if (job.retry) policy = schedule_file::to_policy(*job.retry);
    return [name = job.name, command = *job.command, timeout = job.timeout, policy, context, rate,
            node = std::move(node)](cluster::Job& j) {
        std::stop_source stop;
        const std::stop_callback forward(j.stop_token(), [&stop] { stop.request_stop(); });
        RunOptions run;
        run.stop = stop.get_token();
        run.kill_grace = context.kill_grace;
        std::string fire = fire_time_of(name, j.unique_key());
        if (fire.empty())
            fire = cron::to_rfc3339(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()),
                                    cron::Zone::utc());
        run.extra_env = {{"TXFLOW_JOB", name},
                         {"TXFLOW_JOB_ID", std::to_string(j.id())},
                         {"TXFLOW_ATTEMPT", std::to_string(j.attempt())},
                         {"TXFLOW_NODE", node},
                         {"TXFLOW_FIRE_TIME", fire}};
        if (j.payload().find('\0') == std::string::npos) run.extra_env.emplace("TXFLOW_PAYLOAD", j.payload());
        LogFields fields{};
        fields.job = name;
        CommandResult result;
        bool timed_out = false;
        {
            const AttemptTimer timer(timeout, stop);
            result = run_logged(command, run, fields, context, *rate);
            timed_out = timer.fired();
        }
        if (result.ok()) return;
        const std::string why =
            timed_out ? fmt::format("timed out after {}", schedule_file::format_duration(*timeout)) : result.describe();
        // Stopping, or the job was taken over: no retry of our own, the row decides.
        if (j.stop_token().stop_requested()) throw std::runtime_error("stopped: " + why);
        if (policy && j.attempt() < j.max_attempts()) {
            const auto delay = policy->next_delay(static_cast<std::uint32_t>(j.attempt()), std::chrono::milliseconds{0},
                                                  std::chrono::milliseconds{0}, rng());
            if (delay) {
                log_with(*context.log, spdlog::level::warn, fields,
                         fmt::format("job {} attempt {} failed: {}; retrying in {}", j.id(), j.attempt(), why,
                                     schedule_file::format_duration(*delay)));
                j.retry_after(*delay);
                return;
            }
        }
        throw std::runtime_error(why);
    };
}

}  // namespace txflow::daemon::detail
