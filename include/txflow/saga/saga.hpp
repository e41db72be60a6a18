#pragma once
/// @file
/// SAGA transactional tasks: steps that either all complete or are undone.
///
///     auto transfer = txflow::Saga("transfer")
///         .step("debit", debit, undo_debit)          // action, compensation
///         .step("credit", credit, undo_credit).timeout(2s).retry(txflow::retry::fixed(100ms).attempts(3))
///         .step("notify", notify).no_compensation()  // must be said explicitly
///         .build();                                  // throws SagaDefinitionError naming the step
///     auto order = sched.start_saga(transfer, {{"amount", 10}}, "order-42");  // idempotency key
///
/// Steps run in order; when one fails (after its own retries) the steps that
/// completed are compensated in reverse order, each compensation with its own
/// retry policy. A no_compensation step is a pivot: once it may have acted the
/// saga is never compensated past it (a later failure parks the saga in
/// compensation_failed for an operator), so the steps after it should retry. A parallel group runs its steps at once;
/// if any fails, the others are asked to stop and every one that completed is compensated.
///
/// The builder is a typestate: a step added without a compensation must be
/// followed by .compensate(fn) or .no_compensation() before anything else, or
/// the program does not compile. Definitions made at run time (from JSON, say)
/// use saga::Definition::create(), which checks the same rules and returns an
/// error instead.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>
#include "txflow/core/export.hpp"

#include <nlohmann/json.hpp>

#include "txflow/core/clock.hpp"
#include "txflow/core/priority.hpp"
#include "txflow/observe/trace.hpp"
#include "txflow/policy/retry.hpp"
#include "txflow/result.hpp"
#include "txflow/saga/state.hpp"

namespace txflow {

class Scheduler;

namespace saga {

class Engine;

/// What a step (or its compensation) sees of its saga.
class TXFLOW_EXPORT StepContext {
public:
    /// The saga's data: the input, plus whatever earlier steps wrote. Writes
    /// are kept for later steps (in a parallel group each step writes to its
    /// own copy; the copies are merged in step order when the group ends).
    [[nodiscard]] nlohmann::json& data() { return *data_; }
    /// The saga's data, read-only.
    [[nodiscard]] const nlohmann::json& data() const { return *data_; }
    /// The saga instance's id.
    [[nodiscard]] std::string_view saga_id() const { return saga_id_; }
    /// The step's name.
    [[nodiscard]] std::string_view step_name() const { return step_name_; }
    /// "<saga id>/<step>" (compensation: "<saga id>/<step>/compensate"): the
    /// same on every attempt and after a crash, so a downstream service can
    /// drop duplicates.
    [[nodiscard]] std::string_view idempotency_key() const {
        if (key_.empty()) {  // made on first use: most steps never ask
            key_.reserve(saga_id_.size() + step_name_.size() + 12);
            key_.append(saga_id_).append("/").append(step_name_);
            if (compensating_) key_.append("/compensate");
        }
        return key_;
    }
    /// Requested at the step's timeout, when the saga is cancelled, or when a
    /// sibling in a parallel group fails.
    [[nodiscard]] std::stop_token stop_token() const { return stop_; }
    /// 1 on the first attempt of the action (or of the compensation); +1 per retry.
    [[nodiscard]] std::uint32_t attempt() const { return attempt_; }
    /// True when this call is the step's compensation, not its action.
    [[nodiscard]] bool compensating() const { return compensating_; }
    /// While compensating: why the saga failed.
    [[nodiscard]] std::string_view saga_error() const { return saga_error_; }
    /// Ends the attempt as failed without throwing (throwing does the same).
    void fail(std::string reason) { failure_ = std::move(reason); }
    /// This attempt's span, a child of the saga's (SchedulerOptions::tracer),
    /// to pass on as `traceparent`; null when tracing is off.
    [[nodiscard]] const observe::TraceContext* trace() const { return trace_; }

private:
    friend class Engine;
    StepContext(nlohmann::json& data, std::string_view saga_id, std::string_view step, std::stop_token stop,
                std::uint32_t attempt, bool compensating, std::string_view saga_error)
        : data_(&data),
          saga_id_(saga_id),
          step_name_(step),
          stop_(std::move(stop)),
          attempt_(attempt),
          compensating_(compensating),
          saga_error_(saga_error) {}
    nlohmann::json* data_;
    std::string_view saga_id_;
    std::string_view step_name_;
    mutable std::string key_;
    std::stop_token stop_;
    std::uint32_t attempt_;
    bool compensating_;
    std::string_view saga_error_;
    std::optional<std::string> failure_;
    const observe::TraceContext* trace_ = nullptr;
};

/// A step's action or compensation; throwing (or StepContext::fail()) fails the attempt.
using StepFunction = std::function<void(StepContext&)>;

/// One step of a definition. Made by txflow::step() / Saga::step(), or filled
/// in directly for saga::Definition::create().
struct TXFLOW_EXPORT Step {
    std::string name;           ///< unique within the definition
    StepFunction action;        ///< what the step does
    StepFunction compensation;  ///< empty only with no_compensation
    /// Nothing undoes it, said explicitly. Such a step is a pivot: once it may
    /// have acted, the saga only goes forward (see "Pivots" in docs/sagas.md).
    bool no_compensation = false;
    std::optional<std::chrono::milliseconds> timeout;               ///< per attempt
    std::optional<retry::Policy> retry;                             ///< default: one attempt
    std::optional<std::chrono::milliseconds> compensation_timeout;  ///< per compensation attempt
    std::optional<retry::Policy> compensation_retry;                ///< default: Options::compensation_retry
    std::uint32_t group = 0;  ///< > 0: adjacent steps with the same group run in parallel

    /// True unless the step is no_compensation.
    [[nodiscard]] bool has_compensation() const { return static_cast<bool>(compensation); }
};

/// After a crash, what to do with a saga that was running forward.
enum class Recovery : std::uint8_t {
    resume,      ///< run the interrupted step again (same idempotency key), then go on
    compensate,  ///< undo what completed
};

/// Settings for a whole saga definition.
struct TXFLOW_EXPORT Options {
    Recovery on_recovery = Recovery::resume;  ///< what to do after a crash interrupted it going forward
    /// Retries for compensations that fail, unless a step has its own.
    retry::Policy compensation_retry =
        retry::exponential(std::chrono::milliseconds(100), 2.0, std::chrono::seconds(10)).attempts(5);
    Priority priority = Priority::normal;  ///< the priority of its steps on the worker pool
    std::string queue;                     ///< a queue registered with SchedulerOptions::queue; empty: default
};

/// Why a definition was refused (or a warning about it): the step, if any, and the reason.
struct TXFLOW_EXPORT DefinitionError {
    std::string step;                                                  ///< empty: about the saga as a whole
    std::string message;                                               ///< the reason
    [[nodiscard]] std::string to_string(std::string_view saga) const;  ///< "saga 'x', step 'y': ..."
};

class Definition;
/// How definitions are shared: by every instance, the scheduler and the builder.
using DefinitionPtr = std::shared_ptr<const Definition>;

/// An immutable, validated saga definition; shared by every instance.
class TXFLOW_EXPORT Definition {
public:
    /// Checks: a name; at least one step; unique, non-empty step names; each
    /// step has an action and a compensation or no_compensation (not both);
    /// a parallel group's steps are adjacent; timeouts > 0.
    static Result<DefinitionPtr, DefinitionError> create(std::string name, std::vector<Step> steps,
                                                         Options options = {});

    /// Legal but risky: a step after a pivot (a no_compensation step with a
    /// compensable step before it) without a retry policy. If it fails, the
    /// saga cannot be compensated past the pivot and waits for an operator.
    /// The scheduler logs these when the definition is registered.
    [[nodiscard]] std::vector<DefinitionError> warnings() const;

    /// The definition's name (instances are recovered by it).
    [[nodiscard]] const std::string& name() const { return name_; }
    /// The steps, in order.
    [[nodiscard]] const std::vector<Step>& steps() const { return steps_; }
    /// The saga-wide options.
    [[nodiscard]] const Options& options() const { return options_; }
    /// The index of the step called `name`, or nullopt.
    [[nodiscard]] std::optional<std::size_t> find_step(std::string_view name) const;

    struct Private;  ///< a constructor key: only create() makes one
    Definition(const Private&, std::string name, std::vector<Step> steps, Options options)
        : name_(std::move(name)), steps_(std::move(steps)), options_(std::move(options)) {}

private:
    std::string name_;
    std::vector<Step> steps_;
    Options options_;
};

/// A step of a saga instance as observed: state, attempts, times and last error.
struct TXFLOW_EXPORT StepInfo {
    std::string name;                         ///< the step's name
    State state = State::pending;             ///< its state now
    std::uint32_t attempts = 0;               ///< action attempts started
    std::uint32_t compensation_attempts = 0;  ///< compensation attempts started
    std::optional<WallTime> started;          ///< first attempt
    std::optional<WallTime> finished;         ///< last state change out of running/compensating
    std::chrono::nanoseconds duration{0};     ///< time spent in the action's attempts
    std::string last_error;                   ///< the last failure of its action or compensation; empty when none
};

/// A saga instance as observed: state, data, steps and errors (Scheduler::saga()).
struct TXFLOW_EXPORT Info {
    std::string id;                ///< the instance id
    std::string definition;        ///< the definition's name
    State state = State::pending;  ///< its state now
    nlohmann::json data;           ///< the saga's data now
    std::string error;             ///< why it failed, or why compensation failed
    WallTime created{};            ///< when it was started
    WallTime updated{};            ///< its last change of state
    std::vector<StepInfo> steps;   ///< its steps, in definition order
    std::string resolution;        ///< an operator's note from resolve_compensation()
    /// The store failed under it: it stopped where it was and goes on only
    /// after a restart with a working store (an alert event said so).
    bool stalled = false;
};

}  // namespace saga

/// Thrown by Saga::build() for a definition saga::Definition::create() refuses.
class TXFLOW_EXPORT SagaDefinitionError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// A saga definition as the scheduler takes it (Saga::build() makes one).
using SagaRef = saga::DefinitionPtr;

namespace saga::detail {
template <class... T>
inline constexpr bool always_false = false;
}

class StepNeedsCompensation;

/// A complete step for Saga::parallel(), with its policies.
class TXFLOW_EXPORT SagaStep {
public:
    /// A step with an action and the compensation that undoes it.
    SagaStep(std::string name, saga::StepFunction action, saga::StepFunction compensation) {
        step_.name = std::move(name);
        step_.action = std::move(action);
        step_.compensation = std::move(compensation);
    }
    /// Bounds each attempt of the action.
    [[nodiscard]] SagaStep timeout(std::chrono::milliseconds limit) && {
        step_.timeout = limit;
        return std::move(*this);
    }
    /// Retries the action on failure.
    [[nodiscard]] SagaStep retry(retry::Policy policy) && {
        step_.retry = std::move(policy);
        return std::move(*this);
    }
    /// Bounds each attempt of the compensation.
    [[nodiscard]] SagaStep compensation_timeout(std::chrono::milliseconds limit) && {
        step_.compensation_timeout = limit;
        return std::move(*this);
    }
    /// Retries the compensation on failure.
    [[nodiscard]] SagaStep compensation_retry(retry::Policy policy) && {
        step_.compensation_retry = std::move(policy);
        return std::move(*this);
    }
    /// The finished step.
    [[nodiscard]] saga::Step release() && { return std::move(step_); }

private:
    friend class StepNeedsCompensation;
    SagaStep() = default;
    saga::Step step_;
};

/// A step added without a compensation: say what undoes it, or that nothing does.
class TXFLOW_EXPORT StepNeedsCompensation {
public:
    /// A step `name` doing `action`, its compensation still to be said.
    StepNeedsCompensation(std::string name, saga::StepFunction action)
        : name_(std::move(name)), action_(std::move(action)) {}
    /// The step, undone by `compensation`.
    [[nodiscard]] SagaStep compensate(saga::StepFunction compensation) && {
        return SagaStep(std::move(name_), std::move(action_), std::move(compensation));
    }
    /// The step, with nothing to undo it (a pivot, see docs/sagas.md).
    [[nodiscard]] SagaStep no_compensation() && {
        SagaStep s;
        s.step_.name = std::move(name_);
        s.step_.action = std::move(action_);
        s.step_.no_compensation = true;
        return s;
    }

private:
    std::string name_;
    saga::StepFunction action_;
};

/// A step for Saga::parallel() with its compensation.
[[nodiscard]] inline SagaStep step(std::string name, saga::StepFunction action, saga::StepFunction compensation) {
    return {std::move(name), std::move(action), std::move(compensation)};
}
/// A step for Saga::parallel(); its compensation (or none) is said next.
[[nodiscard]] inline StepNeedsCompensation step(std::string name, saga::StepFunction action) {
    return {std::move(name), std::move(action)};
}

class Saga;

/// Saga::step(name, action) returns this: only .compensate() or
/// .no_compensation() lead back to the builder.
class TXFLOW_EXPORT SagaPendingStep {
public:
    /// Gives the step a compensation and returns to the builder.
    [[nodiscard]] Saga compensate(saga::StepFunction compensation) &&;
    /// Declares the step has no compensation and returns to the builder.
    [[nodiscard]] Saga no_compensation() &&;

    /// Not allowed: fails to compile, asking for the previous step's compensation first.
    template <class... Args>
    void step(Args&&...) {
        static_assert(saga::detail::always_false<Args...>,
                      "txflow::Saga: the previous step has no compensation; "
                      "add .compensate(fn) or .no_compensation() before the next step");
    }
    /// Not allowed: fails to compile, asking for the last step's compensation first.
    template <class... Args>
    void build(Args&&...) {
        static_assert(saga::detail::always_false<Args...>,
                      "txflow::Saga: the last step has no compensation; "
                      "add .compensate(fn) or .no_compensation() before build()");
    }
    /// Not allowed: fails to compile; say the compensation before the step's policies.
    template <class... Args>
    void timeout(Args&&...) {
        static_assert(saga::detail::always_false<Args...>,
                      "txflow::Saga: say .compensate(fn) or .no_compensation() first, then the step's policies");
    }
    /// Not allowed: fails to compile; say the compensation before the step's policies.
    template <class... Args>
    void retry(Args&&...) {
        static_assert(saga::detail::always_false<Args...>,
                      "txflow::Saga: say .compensate(fn) or .no_compensation() first, then the step's policies");
    }

private:
    friend class Saga;
    SagaPendingStep(Saga&& saga, std::string name, saga::StepFunction action);
    std::unique_ptr<Saga> saga_;
    std::string name_;
    saga::StepFunction action_;
};

/// The fluent, compile-time checked builder. Chain it from a temporary.
class TXFLOW_EXPORT Saga {
public:
    /// Starts a definition called `name`.
    explicit Saga(std::string name) : name_(std::move(name)) {}

    /// Adds a step with its action and compensation.
    [[nodiscard]] Saga step(std::string name, saga::StepFunction action, saga::StepFunction compensation) && {
        steps_.push_back(SagaStep(std::move(name), std::move(action), std::move(compensation)).release());
        return std::move(*this);
    }
    /// Adds a step; the compensation (or no_compensation()) must come next.
    [[nodiscard]] SagaPendingStep step(std::string name, saga::StepFunction action) && {
        return SagaPendingStep(std::move(*this), std::move(name), std::move(action));
    }
    /// Complete steps (txflow::step(...)) that run at the same time.
    template <class... S>
    [[nodiscard]] Saga parallel(S&&... steps) && {
        static_assert((std::is_same_v<std::decay_t<S>, SagaStep> && ...),
                      "txflow::Saga::parallel: every step needs .compensate(fn) or .no_compensation()");
        static_assert(sizeof...(S) >= 2, "txflow::Saga::parallel: a group has at least two steps");
        ++groups_;
        (add_to_group(std::move(steps).release()), ...);
        return std::move(*this);
    }

    // Policies of the last step added.
    /// Bounds each attempt of the last step's action.
    [[nodiscard]] Saga timeout(std::chrono::milliseconds limit) && {
        last("timeout").timeout = limit;
        return std::move(*this);
    }
    /// Retries the last step's action on failure.
    [[nodiscard]] Saga retry(retry::Policy policy) && {
        last("retry").retry = std::move(policy);
        return std::move(*this);
    }
    /// Bounds each attempt of the last step's compensation.
    [[nodiscard]] Saga compensation_timeout(std::chrono::milliseconds limit) && {
        last("compensation_timeout").compensation_timeout = limit;
        return std::move(*this);
    }
    /// Retries the last step's compensation on failure.
    [[nodiscard]] Saga compensation_retry(retry::Policy policy) && {
        last("compensation_retry").compensation_retry = std::move(policy);
        return std::move(*this);
    }

    // For the whole saga.
    /// What to do after a crash with an instance that was going forward (default: resume).
    [[nodiscard]] Saga on_recovery(saga::Recovery r) && {
        options_.on_recovery = r;
        return std::move(*this);
    }
    /// Retries for compensations whose step has none of its own.
    [[nodiscard]] Saga default_compensation_retry(retry::Policy policy) && {
        options_.compensation_retry = std::move(policy);
        return std::move(*this);
    }
    /// The priority of the saga's steps on the worker pool.
    [[nodiscard]] Saga priority(Priority p) && {
        options_.priority = p;
        return std::move(*this);
    }
    /// The queue the saga's steps run in (registered with SchedulerOptions::queue).
    [[nodiscard]] Saga queue(std::string name) && {
        options_.queue = std::move(name);
        return std::move(*this);
    }

    /// Throws SagaDefinitionError ("saga 'transfer', step 'credit': ...").
    [[nodiscard]] SagaRef build() &&;

private:
    friend class SagaPendingStep;
    saga::Step& last(std::string_view what);
    void add_to_group(saga::Step s) {
        s.group = groups_;
        steps_.push_back(std::move(s));
    }

    std::string name_;
    std::vector<saga::Step> steps_;
    saga::Options options_;
    std::uint32_t groups_ = 0;
};

inline SagaPendingStep::SagaPendingStep(Saga&& saga, std::string name, saga::StepFunction action)
    : saga_(std::make_unique<Saga>(std::move(saga))), name_(std::move(name)), action_(std::move(action)) {}

inline Saga SagaPendingStep::compensate(saga::StepFunction compensation) && {
    saga_->steps_.push_back(SagaStep(std::move(name_), std::move(action_), std::move(compensation)).release());
    return std::move(*saga_);
}

inline Saga SagaPendingStep::no_compensation() && {
    saga_->steps_.push_back(txflow::step(std::move(name_), std::move(action_)).no_compensation().release());
    return std::move(*saga_);
}

}  // namespace txflow
