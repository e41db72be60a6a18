// JobBuilder, and Scheduler::add, which turns a builder into a job record.

#include "scheduler/impl.hpp"

#include "txflow/policy/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>

namespace txflow {

using std::chrono::milliseconds;

JobHandle Scheduler::add(JobBuilder& b, JobFunction fn) {
    if (b.name_.empty()) throw ScheduleError("job name must not be empty");
    if (!b.trigger_) throw ScheduleError(fmt::format("job '{}' has no trigger (cron, every, after or at)", b.name_));
    if (!fn) throw ScheduleError(fmt::format("job '{}' has no function", b.name_));
    if (b.name_.size() > std::numeric_limits<std::uint32_t>::max()) throw ScheduleError("job name too long");
    const Trigger& trigger = *b.trigger_;
    std::optional<JobState::CronTrigger> cron_trigger;
    if (trigger.kind == Trigger::Kind::cron) {
        std::optional<cron::Schedule> schedule = trigger.schedule;
        if (!b.cron_text_.empty()) {
            auto parsed = cron::parse(b.cron_text_, b.cron_format_);
            if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", b.name_, parsed.error().message()));
            schedule = *parsed;
        }
        if (!b.zone_.empty()) {
            const cron::Zone* zone = cron::Zone::find(b.zone_);
            if (zone == nullptr)
                throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", b.name_, b.zone_));
            schedule = schedule->in_zone(*zone);
        }
        std::string text = b.cron_text_.empty() ? schedule->to_string() : b.cron_text_;
        cron_trigger.emplace(JobState::CronTrigger{*schedule, std::move(text), std::nullopt, std::nullopt});
    } else if (!b.zone_.empty()) {
        throw ScheduleError(fmt::format("job '{}': in_zone() applies to cron jobs only", b.name_));
    }
    if ((trigger.kind == Trigger::Kind::every_fixed_rate || trigger.kind == Trigger::Kind::every_fixed_delay) &&
        trigger.period <= milliseconds{0})
        throw ScheduleError(fmt::format("job '{}': every() needs a positive period", b.name_));

    struct Destroy {
        void operator()(JobState* j) const noexcept { JobState::destroy(j); }
    };
    std::unique_ptr<JobState, Destroy> j(JobState::create(b.name_));
    j->kind = trigger.kind;
    j->set_cron(std::move(cron_trigger));
    if (trigger.kind == Trigger::Kind::at) j->set_at(trigger.at);
    else j->set_period(trigger.period);
    // Policies: the scheduler-wide ones outermost, then the job's in the order
    // written. A timeout with a retry inside it bounds the whole run.
    std::vector<Wrapper> wrappers = impl_->options.default_wrappers_;
    for (const auto& rate : impl_->options.queue_rates_) {
        if (!b.queue_.empty() && rate.queue == b.queue_)
            wrappers.push_back(policies::rate_limit(rate_limiter("queue:" + rate.queue, rate.per_second, rate.burst)));
    }
    for (std::size_t i = 0; i < b.steps_.size(); ++i) {
        const auto& step = b.steps_[i];
        if (step.timeout.count() > 0) {
            const bool retry_inside = std::any_of(b.steps_.begin() + static_cast<std::ptrdiff_t>(i) + 1, b.steps_.end(),
                                                  [](const JobBuilder::Step& s) { return s.is_retry; });
            wrappers.push_back(policies::timeout(
                step.timeout, retry_inside ? policies::TimeoutScope::run : policies::TimeoutScope::attempt));
        } else {
            wrappers.push_back(step.wrapper);
        }
    }
    j->fn = policies::chain(std::move(fn), wrappers);
    j->set_priority(b.priority_);
    if (b.jitter_.count() > 0) j->extra_state().jitter = b.jitter_;
    const Misfire misfire = b.misfire_.value_or(impl_->options.misfire_);
    j->misfire_mode = misfire.mode;
    if (misfire.mode == Misfire::Mode::fire_all) j->extra_state().misfire_cap = misfire.cap;
    j->skip_overlap = b.skip_if_running_;
    j->coalesce = b.coalesce_;
    if (b.coalesce_) (void)j->extra_state();

    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw ScheduleError(fmt::format("job '{}': the scheduler is stopping", b.name_));
    if (impl_->by_name.find(b.name_) != nullptr)
        throw ScheduleError(fmt::format("a job named '{}' already exists", b.name_));
    j->set_queue(impl_->queue_id(b.queue_));
    JobState& record = *j;
    impl_->by_name.insert(j.get());
    j.release();  // owned by the index now
    impl_->restore(record);
    impl_->arm(record, clock_->steady_now(), clock_->wall_now());
    return JobHandle(this, b.name_);
}

// ---------------------------------------------------------------- JobBuilder

JobBuilder& JobBuilder::cron(std::string_view expression, cron::Format format) {
    trigger_ = Trigger{Trigger::Kind::cron, std::nullopt, milliseconds{0}, WallTime{}};
    cron_text_ = std::string(expression);
    cron_format_ = format;
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Schedule& schedule) {
    trigger_ = Trigger{Trigger::Kind::cron, schedule, milliseconds{0}, WallTime{}};
    cron_text_.clear();
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Spec& spec) {
    // A "..."_cron literal: checked by the compiler, except whether its zone exists.
    const std::string_view zone = spec.zone_name();
    if (!zone.empty() && cron::Zone::find(zone) == nullptr)
        throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", name_, zone));
    return cron(cron::Schedule(spec));
}

JobBuilder& JobBuilder::every(milliseconds period) {
    trigger_ = Trigger{Trigger::Kind::every_fixed_rate, std::nullopt, period, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::every_fixed_delay(milliseconds delay) {
    trigger_ = Trigger{Trigger::Kind::every_fixed_delay, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::after(milliseconds delay) {
    trigger_ = Trigger{Trigger::Kind::after, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::at(WallTime when) {
    trigger_ = Trigger{Trigger::Kind::at, std::nullopt, milliseconds{0}, when};
    return *this;
}

JobBuilder& JobBuilder::in_zone(std::string_view zone) {
    zone_ = std::string(zone);
    return *this;
}

JobBuilder& JobBuilder::recover() {
    steps_.push_back({policies::recover()});
    return *this;
}

JobBuilder& JobBuilder::retry(retry::Policy policy) {
    steps_.push_back({policies::retry(std::move(policy)), true});
    return *this;
}

JobBuilder& JobBuilder::timeout(milliseconds limit) {
    if (limit <= milliseconds{0}) throw ScheduleError(fmt::format("job '{}': timeout must be positive", name_));
    steps_.push_back({{}, false, limit});
    return *this;
}

JobBuilder& JobBuilder::skip_if_running() {
    skip_if_running_ = true;  // checked by the scheduler before the run starts
    return *this;
}

JobBuilder& JobBuilder::delay_if_running() {
    steps_.push_back({policies::delay_if_running()});
    return *this;
}

JobBuilder& JobBuilder::circuit_breaker(std::shared_ptr<CircuitBreaker> breaker, JobFunction fallback) {
    if (!breaker) throw ScheduleError(fmt::format("job '{}': circuit_breaker() needs a breaker", name_));
    steps_.push_back({policies::circuit_breaker(std::move(breaker), std::move(fallback))});
    return *this;
}

JobBuilder& JobBuilder::circuit_breaker(std::string_view name, const BreakerOptions& options, JobFunction fallback) {
    return circuit_breaker(scheduler_.breaker(name, options), std::move(fallback));
}

JobBuilder& JobBuilder::rate_limit(double runs_per_second, double burst) {
    return rate_limit(std::make_shared<TokenBucket>(runs_per_second, burst, scheduler_.clock()));
}

JobBuilder& JobBuilder::rate_limit(std::shared_ptr<TokenBucket> bucket) {
    if (!bucket) throw ScheduleError(fmt::format("job '{}': rate_limit() needs a bucket", name_));
    steps_.push_back({policies::rate_limit(std::move(bucket))});
    return *this;
}

JobBuilder& JobBuilder::wrap(Wrapper wrapper) {
    if (!wrapper) throw ScheduleError(fmt::format("job '{}': wrap() needs a wrapper", name_));
    steps_.push_back({std::move(wrapper)});
    return *this;
}

JobHandle JobBuilder::run(JobFunction fn) {
    return scheduler_.add(*this, std::move(fn));
}
}  // namespace txflow
