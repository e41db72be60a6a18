#include "txflow/policy/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace txflow {

TokenBucket::TokenBucket(double tokens_per_second, double burst, Clock& clock)
    : rate_(tokens_per_second),
      burst_(burst),
      epsilon_(1e-9 * std::max(1.0, burst)),
      clock_(clock),
      tokens_(burst),
      last_(clock.steady_now()) {
    // Written as !(x > 0) so NaN is rejected too.
    if (!(tokens_per_second > 0.0) || !std::isfinite(tokens_per_second)) {
        throw std::invalid_argument("TokenBucket: tokens_per_second must be finite and > 0");
    }
    if (!(burst > 0.0) || !std::isfinite(burst))
        throw std::invalid_argument("TokenBucket: burst must be finite and > 0");
}

bool TokenBucket::try_take(double tokens) {
    check_request(tokens);
    const SteadyTime now = clock_.steady_now();
    const std::lock_guard lock(mutex_);
    refill_locked(now);
    if (tokens_ + epsilon_ < tokens) return false;
    tokens_ = std::max(0.0, tokens_ - tokens);
    return true;
}

double TokenBucket::available() const {
    const SteadyTime now = clock_.steady_now();
    const std::lock_guard lock(mutex_);
    refill_locked(now);
    return tokens_;
}

std::chrono::nanoseconds TokenBucket::time_until(double tokens) const {
    check_request(tokens);
    const SteadyTime now = clock_.steady_now();
    const std::lock_guard lock(mutex_);
    refill_locked(now);
    const double missing = tokens - tokens_;
    if (missing <= epsilon_) return std::chrono::nanoseconds{0};
    return std::chrono::nanoseconds{static_cast<std::chrono::nanoseconds::rep>(std::ceil(missing / rate_ * 1e9))};
}

void TokenBucket::check_request(double tokens) const {
    if (!(tokens >= 0.0) || !std::isfinite(tokens)) {
        throw std::invalid_argument("TokenBucket: tokens must be finite and >= 0");
    }
    if (tokens > burst_) throw std::invalid_argument("TokenBucket: tokens must be <= burst (it could never succeed)");
}

void TokenBucket::refill_locked(SteadyTime now) const {
    // Two threads may read the clock in one order and lock in the other: time
    // never runs backwards for the bucket.
    if (now <= last_) return;
    const std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    last_ = now;
}

}  // namespace txflow
