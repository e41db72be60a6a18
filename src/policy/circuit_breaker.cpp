#include "txflow/policy/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace txflow {

void validate(const BreakerOptions& options) {
    if (options.window < 1) throw std::invalid_argument("BreakerOptions: window must be >= 1");
    if (options.min_calls > options.window) throw std::invalid_argument("BreakerOptions: min_calls must be <= window");
    // Written as !(in range) so NaN is rejected too.
    if (!(options.failure_rate > 0.0 && options.failure_rate <= 1.0)) {
        throw std::invalid_argument("BreakerOptions: failure_rate must be in (0, 1]");
    }
    if (options.slow_call.count() < 0) throw std::invalid_argument("BreakerOptions: slow_call must be >= 0");
    if (!(options.slow_percentile > 0.0 && options.slow_percentile <= 1.0)) {
        throw std::invalid_argument("BreakerOptions: slow_percentile must be in (0, 1]");
    }
    if (options.open_for.count() < 0) throw std::invalid_argument("BreakerOptions: open_for must be >= 0");
    if (options.half_open_probes < 1) throw std::invalid_argument("BreakerOptions: half_open_probes must be >= 1");
}

namespace {

BreakerOptions validated(BreakerOptions options) {
    validate(options);
    return options;
}

}  // namespace

CircuitBreaker::CircuitBreaker(std::string name, BreakerOptions options, Clock& clock)
    : name_(std::move(name)),
      options_(validated(options)),
      clock_(clock),
      window_(options_.window, Outcome{std::chrono::nanoseconds{0}, false}),
      callbacks_(std::make_shared<const std::vector<StateCallback>>()) {
    scratch_.reserve(options_.window);
}

bool CircuitBreaker::try_acquire() {
    const SteadyTime now = clock_.steady_now();
    bool permitted = false;
    bool notify = false;
    {
        const std::lock_guard lock(mutex_);
        refresh_locked(now);
        switch (state_) {
            case BreakerState::closed: permitted = true; break;
            case BreakerState::open: permitted = false; break;
            case BreakerState::half_open:
                permitted = probes_issued_ < options_.half_open_probes;
                if (permitted) ++probes_issued_;
                break;
        }
        notify = !pending_.empty();
    }
    if (notify) deliver();
    return permitted;
}

void CircuitBreaker::record_success(std::chrono::nanoseconds latency) {
    record(latency, false);
}

void CircuitBreaker::record_failure(std::chrono::nanoseconds latency) {
    record(latency, true);
}

void CircuitBreaker::record(std::chrono::nanoseconds latency, bool failed) {
    latency = std::max(latency, std::chrono::nanoseconds{0});
    const SteadyTime now = clock_.steady_now();
    bool notify = false;
    {
        const std::lock_guard lock(mutex_);
        // No refresh here: an outcome arriving after open_for has passed belongs
        // to a call let through before the breaker opened, not to a probe.
        switch (state_) {
            case BreakerState::closed:
                push_locked(Outcome{latency, failed});
                if (should_open_locked()) transition_locked(BreakerState::open, now);
                break;
            case BreakerState::open: break;  // a straggler from before the breaker opened
            case BreakerState::half_open:
                if (probes_succeeded_ == probes_issued_) break;  // no probe outstanding: a straggler
                if (failed || is_slow(latency)) {
                    transition_locked(BreakerState::open, now);
                } else if (++probes_succeeded_ == options_.half_open_probes) {
                    transition_locked(BreakerState::closed, now);
                }
                break;
        }
        notify = !pending_.empty();
    }
    if (notify) deliver();
}

BreakerState CircuitBreaker::state() const {
    const SteadyTime now = clock_.steady_now();
    BreakerState current{};
    bool notify = false;
    {
        const std::lock_guard lock(mutex_);
        refresh_locked(now);
        current = state_;
        notify = !pending_.empty();
    }
    if (notify) deliver();
    return current;
}

BreakerStats CircuitBreaker::stats() const {
    const SteadyTime now = clock_.steady_now();
    BreakerStats stats;
    bool notify = false;
    {
        const std::lock_guard lock(mutex_);
        refresh_locked(now);
        stats.state = state_;
        stats.calls = count_;
        stats.failures = failures_;
        stats.slow_calls = slow_;
        stats.failure_rate = count_ == 0 ? 0.0 : static_cast<double>(failures_) / static_cast<double>(count_);
        stats.latency_percentile = percentile_locked();
        stats.probes_in_flight = state_ == BreakerState::half_open ? probes_issued_ - probes_succeeded_ : 0;
        notify = !pending_.empty();
    }
    if (notify) deliver();
    return stats;
}

void CircuitBreaker::on_state_change(StateCallback callback) {
    if (!callback) throw std::invalid_argument("CircuitBreaker::on_state_change: empty callback");
    const std::lock_guard lock(mutex_);
    auto next = std::make_shared<std::vector<StateCallback>>(*callbacks_);
    next->push_back(std::move(callback));
    callbacks_ = std::move(next);
}

bool CircuitBreaker::is_slow(std::chrono::nanoseconds latency) const noexcept {
    return options_.slow_call.count() > 0 && latency > options_.slow_call;
}

void CircuitBreaker::refresh_locked(SteadyTime now) const {
    if (state_ == BreakerState::open && now >= open_until_) transition_locked(BreakerState::half_open, now);
}

void CircuitBreaker::transition_locked(BreakerState to, SteadyTime now) const {
    const BreakerState from = state_;
    if (from == to) return;
    state_ = to;
    probes_issued_ = 0;
    probes_succeeded_ = 0;
    if (to == BreakerState::open) open_until_ = now + options_.open_for;
    // A re-closed breaker starts from a clean slate: the outcomes that opened
    // it must not open it again.
    if (to == BreakerState::closed) clear_window_locked();
    pending_.push_back(Transition{from, to});
}

void CircuitBreaker::push_locked(Outcome outcome) {
    Outcome& slot = window_[next_];
    if (count_ == window_.size()) {  // full: the oldest outcome leaves
        if (slot.failed) --failures_;
        if (is_slow(slot.latency)) --slow_;
    } else {
        ++count_;
    }
    slot = outcome;
    if (outcome.failed) ++failures_;
    if (is_slow(outcome.latency)) ++slow_;
    next_ = (next_ + 1) % window_.size();
}

bool CircuitBreaker::should_open_locked() const {
    if (count_ == 0 || count_ < options_.min_calls) return false;
    // A division, not failure_rate * count_: 3 / 10 rounds to the same double as
    // the literal 0.3, so "exactly at the threshold" means what a user expects.
    if (static_cast<double>(failures_) / static_cast<double>(count_) >= options_.failure_rate) return true;
    return options_.slow_call.count() > 0 && slow_ > 0 && percentile_locked() > options_.slow_call;
}

std::chrono::nanoseconds CircuitBreaker::percentile_locked() const {
    if (count_ == 0) return std::chrono::nanoseconds{0};
    // The ring buffer fills from index 0, so the outcomes are the first count_ slots.
    scratch_.clear();
    for (std::size_t i = 0; i < count_; ++i) scratch_.push_back(window_[i].latency);
    // Nearest rank: the smallest latency with at least p of the calls at or below
    // it. The epsilon keeps 0.95 * 20 (18.999...) at rank 19.
    const double exact = options_.slow_percentile * static_cast<double>(count_) - 1e-9;
    const double rank = std::clamp(std::ceil(exact), 1.0, static_cast<double>(count_));
    const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(rank) - 1;
    std::nth_element(scratch_.begin(), nth, scratch_.end());
    return *nth;
}

void CircuitBreaker::clear_window_locked() const {
    next_ = 0;
    count_ = 0;
    failures_ = 0;
    slow_ = 0;
}

void CircuitBreaker::deliver() const {
    {
        const std::lock_guard lock(mutex_);
        if (delivering_) return;  // that thread drains our changes too, in order
        delivering_ = true;
    }
    for (;;) {
        Transition change{};
        std::shared_ptr<const std::vector<StateCallback>> callbacks;
        {
            const std::lock_guard lock(mutex_);
            // Checked and cleared under the lock, so a change queued meanwhile is
            // either seen here or finds delivering_ false and drains itself.
            if (pending_.empty()) {
                delivering_ = false;
                return;
            }
            change = pending_.front();
            pending_.pop_front();
            callbacks = callbacks_;
        }
        try {
            for (const auto& callback : *callbacks) callback(name_, change.from, change.to);
        } catch (...) {
            const std::lock_guard lock(mutex_);
            delivering_ = false;
            throw;
        }
    }
}

std::shared_ptr<CircuitBreaker> BreakerRegistry::get(std::string_view name, const BreakerOptions& options) {
    validate(options);
    const std::lock_guard lock(mutex_);
    if (const auto it = breakers_.find(name); it != breakers_.end()) {
        if (it->second->options() != options) {
            throw std::invalid_argument("BreakerRegistry: breaker '" + std::string(name) +
                                        "' already exists with different options");
        }
        return it->second;
    }
    auto breaker = std::make_shared<CircuitBreaker>(std::string(name), options, clock_);
    breakers_.emplace(std::string(name), breaker);
    return breaker;
}

std::shared_ptr<CircuitBreaker> BreakerRegistry::find(std::string_view name) const {
    const std::lock_guard lock(mutex_);
    const auto it = breakers_.find(name);
    return it == breakers_.end() ? nullptr : it->second;
}

std::vector<std::string> BreakerRegistry::names() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> result;
    result.reserve(breakers_.size());
    for (const auto& [name, breaker] : breakers_) result.push_back(name);
    return result;
}

}  // namespace txflow
