// JobBuilder, and Scheduler::add, which turns a builder into a job record.

#include "scheduler/impl.hpp"
#include "scheduler/job_definition.hpp"

#include "txflow/policy/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>

namespace txflow {

using std::chrono::milliseconds;

JobHandle Scheduler::add(JobBuilder& b, JobFunction fn) {
    if (b.def_->name_.empty()) throw ScheduleError("job name must not be empty");
    if (!b.def_->trigger_)
        throw ScheduleError(fmt::format("job '{}' has no trigger (cron, every, after or at)", b.def_->name_));
    if (!fn) throw ScheduleError(fmt::format("job '{}' has no function", b.def_->name_));
    if (b.def_->name_.size() > std::numeric_limits<std::uint32_t>::max()) throw ScheduleError("job name too long");
    const Trigger& trigger = *b.def_->trigger_;
    std::optional<JobState::CronTrigger> cron_trigger;
    if (trigger.kind == Trigger::Kind::cron) {
        std::optional<cron::Schedule> schedule = trigger.schedule;
        if (!b.def_->cron_text_.empty()) {
            auto parsed = cron::parse(b.def_->cron_text_, b.def_->cron_format_);
            if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", b.def_->name_, parsed.error().message()));
            schedule = *parsed;
        }
        if (!b.def_->zone_.empty()) {
            const cron::Zone* zone = cron::Zone::find(b.def_->zone_);
            if (zone == nullptr)
                throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", b.def_->name_, b.def_->zone_));
            schedule = schedule->in_zone(*zone);
        }
        std::string text = b.def_->cron_text_.empty() ? schedule->to_string() : b.def_->cron_text_;
        cron_trigger.emplace(JobState::CronTrigger{*schedule, std::move(text), std::nullopt, std::nullopt});
    } else if (!b.def_->zone_.empty()) {
        throw ScheduleError(fmt::format("job '{}': in_zone() applies to cron jobs only", b.def_->name_));
    }
    if ((trigger.kind == Trigger::Kind::every_fixed_rate || trigger.kind == Trigger::Kind::every_fixed_delay) &&
        trigger.period <= milliseconds{0})
        throw ScheduleError(fmt::format("job '{}': every() needs a positive period", b.def_->name_));

    std::shared_ptr<const observe::TraceContext> trace_parent;
    if (b.def_->traceparent_) {
        auto parent = observe::TraceContext::parse(*b.def_->traceparent_, b.def_->tracestate_);
        if (!parent) throw ScheduleError(fmt::format("job '{}': {}", b.def_->name_, parent.error()));
        trace_parent = std::make_shared<const observe::TraceContext>(std::move(*parent));
    }

    struct Destroy {
        void operator()(JobState* j) const noexcept { JobState::destroy(j); }
    };
    std::unique_ptr<JobState, Destroy> j(JobState::create(b.def_->name_));
    j->kind = trigger.kind;
    j->set_cron(std::move(cron_trigger));
    if (trigger.kind == Trigger::Kind::at) j->set_at(trigger.at);
    else j->set_period(trigger.period);
    // Policies: the scheduler-wide ones outermost, then the job's in the order
    // written. A timeout with a retry inside it bounds the whole run.
    std::vector<Wrapper> wrappers = impl_->options.default_wrappers_;
    for (const auto& rate : impl_->options.queue_rates_) {
        if (!b.def_->queue_.empty() && rate.queue == b.def_->queue_)
            wrappers.push_back(policies::rate_limit(rate_limiter("queue:" + rate.queue, rate.per_second, rate.burst)));
    }
    for (std::size_t i = 0; i < b.def_->steps_.size(); ++i) {
        const auto& step = b.def_->steps_[i];
        if (step.timeout.count() > 0) {
            const bool retry_inside =
                std::any_of(b.def_->steps_.begin() + static_cast<std::ptrdiff_t>(i) + 1, b.def_->steps_.end(),
                            [](const JobBuilder::Definition::Step& s) { return s.is_retry; });
            wrappers.push_back(policies::timeout(
                step.timeout, retry_inside ? policies::TimeoutScope::run : policies::TimeoutScope::attempt));
        } else {
            wrappers.push_back(step.wrapper);
        }
    }
    j->fn = policies::chain(std::move(fn), wrappers);
    j->set_priority(b.def_->priority_);
    j->set_jitter(b.def_->jitter_);
    const Misfire misfire = b.def_->misfire_.value_or(impl_->options.misfire_);
    j->misfire_mode = misfire.mode;
    if (misfire.mode == Misfire::Mode::fire_all) j->extra_state().misfire_cap = misfire.cap;
    j->skip_overlap = b.def_->skip_if_running_;
    j->coalesce = b.def_->coalesce_;
    j->preemptible = b.def_->preemptible_;
    if (b.def_->coalesce_) (void)j->extra_state();
    j->set_trace_parent(std::move(trace_parent));

    if (impl_->metrics) j->set_metrics(impl_->metrics->job(b.def_->name_, b.def_->queue_));

    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw ScheduleError(fmt::format("job '{}': the scheduler is stopping", b.def_->name_));
    if (impl_->by_name.find(b.def_->name_) != nullptr)
        throw ScheduleError(fmt::format("a job named '{}' already exists", b.def_->name_));
    j->set_queue(impl_->queue_id(b.def_->queue_));
    JobState& record = *j;
    impl_->by_name.insert(j.get());
    j.release();  // owned by the index now
    impl_->restore(record);
    if (record.preemptible) ++impl_->preemptible_jobs;
    impl_->arm(record, clock_->steady_now(), clock_->wall_now());
    return JobHandle(this, b.def_->name_);
}

// ---------------------------------------------------------------- JobBuilder

JobBuilder::JobBuilder(Scheduler& s, std::string name) : scheduler_(s), def_(std::make_unique<Definition>()) {
    def_->name_ = std::move(name);
}
JobBuilder::JobBuilder(const JobBuilder& other)
    : scheduler_(other.scheduler_), def_(std::make_unique<Definition>(*other.def_)) {}
JobBuilder::JobBuilder(JobBuilder&& other) noexcept = default;
JobBuilder::~JobBuilder() = default;

JobBuilder& JobBuilder::priority(Priority p) {
    def_->priority_ = p;
    return *this;
}
JobBuilder& JobBuilder::queue(std::string_view name) {
    def_->queue_ = name;
    return *this;
}
JobBuilder& JobBuilder::jitter(milliseconds max) {
    def_->jitter_ = max;
    return *this;
}
JobBuilder& JobBuilder::misfire(Misfire m) {
    def_->misfire_ = m;
    return *this;
}
JobBuilder& JobBuilder::preemptible() {
    def_->preemptible_ = true;
    return *this;
}

JobBuilder& JobBuilder::trace_parent(std::string_view traceparent, std::string_view tracestate) {
    def_->traceparent_ = std::string(traceparent);
    def_->tracestate_ = std::string(tracestate);
    return *this;
}

JobBuilder& JobBuilder::coalesce() {
    def_->coalesce_ = true;
    return *this;
}

JobBuilder& JobBuilder::cron(std::string_view expression, cron::Format format) {
    def_->trigger_ = Trigger{Trigger::Kind::cron, std::nullopt, milliseconds{0}, WallTime{}};
    def_->cron_text_ = std::string(expression);
    def_->cron_format_ = format;
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Schedule& schedule) {
    def_->trigger_ = Trigger{Trigger::Kind::cron, schedule, milliseconds{0}, WallTime{}};
    def_->cron_text_.clear();
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Spec& spec) {
    // A "..."_cron literal: checked by the compiler, except whether its zone exists.
    const std::string_view zone = spec.zone_name();
    if (!zone.empty() && cron::Zone::find(zone) == nullptr)
        throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", def_->name_, zone));
    return cron(cron::Schedule(spec));
}

JobBuilder& JobBuilder::every(milliseconds period) {
    def_->trigger_ = Trigger{Trigger::Kind::every_fixed_rate, std::nullopt, period, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::every_fixed_delay(milliseconds delay) {
    def_->trigger_ = Trigger{Trigger::Kind::every_fixed_delay, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::after(milliseconds delay) {
    def_->trigger_ = Trigger{Trigger::Kind::after, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::at(WallTime when) {
    def_->trigger_ = Trigger{Trigger::Kind::at, std::nullopt, milliseconds{0}, when};
    return *this;
}

JobBuilder& JobBuilder::in_zone(std::string_view zone) {
    def_->zone_ = std::string(zone);
    return *this;
}

JobBuilder& JobBuilder::recover() {
    def_->steps_.push_back({policies::recover()});
    return *this;
}

JobBuilder& JobBuilder::retry(retry::Policy policy) {
    def_->steps_.push_back({policies::retry(std::move(policy)), true});
    return *this;
}

JobBuilder& JobBuilder::timeout(milliseconds limit) {
    if (limit <= milliseconds{0}) throw ScheduleError(fmt::format("job '{}': timeout must be positive", def_->name_));
    def_->steps_.push_back({{}, false, limit});
    return *this;
}

JobBuilder& JobBuilder::skip_if_running() {
    def_->skip_if_running_ = true;  // checked by the scheduler before the run starts
    return *this;
}

JobBuilder& JobBuilder::delay_if_running() {
    def_->steps_.push_back({policies::delay_if_running()});
    return *this;
}

JobBuilder& JobBuilder::circuit_breaker(std::shared_ptr<CircuitBreaker> breaker, JobFunction fallback) {
    if (!breaker) throw ScheduleError(fmt::format("job '{}': circuit_breaker() needs a breaker", def_->name_));
    def_->steps_.push_back({policies::circuit_breaker(std::move(breaker), std::move(fallback))});
    return *this;
}

JobBuilder& JobBuilder::circuit_breaker(std::string_view name, const BreakerOptions& options, JobFunction fallback) {
    return circuit_breaker(scheduler_.breaker(name, options), std::move(fallback));
}

JobBuilder& JobBuilder::rate_limit(double runs_per_second, double burst) {
    return rate_limit(std::make_shared<TokenBucket>(runs_per_second, burst, scheduler_.clock()));
}

JobBuilder& JobBuilder::rate_limit(std::shared_ptr<TokenBucket> bucket) {
    if (!bucket) throw ScheduleError(fmt::format("job '{}': rate_limit() needs a bucket", def_->name_));
    def_->steps_.push_back({policies::rate_limit(std::move(bucket))});
    return *this;
}

JobBuilder& JobBuilder::wrap(Wrapper wrapper) {
    if (!wrapper) throw ScheduleError(fmt::format("job '{}': wrap() needs a wrapper", def_->name_));
    def_->steps_.push_back({std::move(wrapper)});
    return *this;
}

JobHandle JobBuilder::run(JobFunction fn) {
    return scheduler_.add(*this, std::move(fn));
}
}  // namespace txflow
