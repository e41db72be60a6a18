#pragma once
// What JobBuilder collects before run() turns it into a job record, and the
// scheduler's way into a JobContext: builder internals, out of the public
// header.

#include "txflow/scheduler.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace txflow {

struct Trigger {
    enum class Kind : std::uint8_t { cron, every_fixed_rate, every_fixed_delay, after, at };
    Kind kind = Kind::after;
    std::optional<cron::Schedule> schedule;  // cron
    std::chrono::milliseconds period{0};     // every / after
    WallTime at{};                           // at
};

struct JobBuilder::Definition {
    std::string name_;
    std::optional<Trigger> trigger_;
    std::string cron_text_;
    cron::Format cron_format_ = cron::Format::any;
    std::string zone_;
    Priority priority_ = Priority::normal;
    std::string queue_;
    std::chrono::milliseconds jitter_{0};
    std::optional<Misfire> misfire_;
    bool coalesce_ = false;
    bool skip_if_running_ = false;
    bool preemptible_ = false;
    std::optional<std::string> traceparent_;  // JobBuilder::trace_parent, parsed at run()
    std::string tracestate_;
    struct Step {
        Wrapper wrapper;  // empty for timeout: built at run()
        bool is_retry = false;
        std::chrono::milliseconds timeout{0};  // > 0: a timeout step
    };
    std::vector<Step> steps_;
};

namespace detail {

struct JobContextAccess {
    static void prepare_attempt(JobContext& ctx, std::uint32_t attempt, SteadyTime run_started,
                                std::chrono::milliseconds previous_delay, std::uint64_t seed,
                                std::function<void(SteadyTime)> on_deadline) {
        ctx.attempt_ = attempt;
        ctx.run_started_ = run_started;
        ctx.previous_delay_ = previous_delay;
        ctx.seed_ = seed;
        ctx.on_deadline_ = std::move(on_deadline);
    }
    static void prepare_preemption(JobContext& ctx, const std::atomic<bool>* flag, std::optional<std::string> saved,
                                   std::function<void(const std::string&)> on_checkpoint) {
        ctx.preempt_ = flag;
        ctx.checkpoint_ = std::move(saved);
        ctx.on_checkpoint_ = std::move(on_checkpoint);
    }
    static void set_trace(JobContext& ctx, const observe::TraceContext* trace) { ctx.trace_ = trace; }
};

}  // namespace detail
}  // namespace txflow
