#include "txflow/policy/retry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "common/duration_text.hpp"

namespace txflow::retry {

namespace {

using std::chrono::milliseconds;
using Rep = milliseconds::rep;

constexpr Rep kRepMax = std::numeric_limits<Rep>::max();

// Uniform integer in [lo, hi] (lo <= hi), unbiased, identical on every
// standard library: reject the 2^64 mod span lowest outputs so the accepted
// range is a whole number of spans.
Rep uniform(Rep lo, Rep hi, std::mt19937_64& rng) {
    static_assert(std::mt19937_64::min() == 0 && std::mt19937_64::max() == std::numeric_limits<std::uint64_t>::max());
    const auto range = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    if (range == 0) return lo;
    if (range == std::numeric_limits<std::uint64_t>::max()) {
        return static_cast<Rep>(static_cast<std::uint64_t>(lo) + rng());
    }
    const std::uint64_t span = range + 1;
    const std::uint64_t reject_below = (std::uint64_t{0} - span) % span;  // 2^64 mod span
    std::uint64_t x = rng();
    while (x < reject_below) x = rng();
    return static_cast<Rep>(static_cast<std::uint64_t>(lo) + x % span);
}

Rep non_negative(milliseconds d) noexcept {
    return std::max<Rep>(d.count(), 0);
}

using txflow::detail::format_duration;

}  // namespace

const char* to_string(Jitter mode) noexcept {
    switch (mode) {
        case Jitter::none: return "none";
        case Jitter::full: return "full";
        case Jitter::equal: return "equal";
        case Jitter::decorrelated: return "decorrelated";
    }
    return "?";
}

Policy fixed(milliseconds delay) {
    if (delay.count() < 0) {
        throw std::invalid_argument(fmt::format("retry::fixed: delay must be >= 0, got {}ms", delay.count()));
    }
    return Policy(Backoff::fixed, delay, 1.0, delay);
}

Policy exponential(milliseconds initial, double multiplier, milliseconds cap) {
    if (initial.count() <= 0) {
        throw std::invalid_argument(
            fmt::format("retry::exponential: initial delay must be > 0, got {}ms", initial.count()));
    }
    // !(>=) also rejects NaN.
    if (!(multiplier >= 1.0) || !std::isfinite(multiplier)) {
        throw std::invalid_argument(
            fmt::format("retry::exponential: multiplier must be finite and >= 1, got {}", multiplier));
    }
    if (cap < initial) {
        throw std::invalid_argument(fmt::format("retry::exponential: cap ({}ms) must be >= initial delay ({}ms)",
                                                cap.count(), initial.count()));
    }
    return Policy(Backoff::exponential, initial, multiplier, cap);
}

Policy& Policy::attempts(std::uint32_t max_attempts) {
    if (max_attempts == 0) {
        throw std::invalid_argument("retry::Policy::attempts: max attempts must be >= 1 (it counts the first attempt)");
    }
    max_attempts_ = max_attempts;
    return *this;
}

Policy& Policy::max_elapsed(milliseconds limit) {
    if (limit.count() < 0) {
        throw std::invalid_argument(
            fmt::format("retry::Policy::max_elapsed: limit must be >= 0, got {}ms", limit.count()));
    }
    max_elapsed_ = limit;
    return *this;
}

Policy& Policy::jitter(Jitter mode) noexcept {
    jitter_ = mode;
    return *this;
}

Policy& Policy::retry_if(Predicate predicate) {
    if (!predicate) {
        throw std::invalid_argument("retry::Policy::retry_if: empty predicate");
    }
    predicate_ = std::move(predicate);
    return *this;
}

bool Policy::retryable(const std::exception_ptr& failure) const {
    return !predicate_ || predicate_(failure);
}

milliseconds Policy::base_delay(std::uint32_t failed_attempt) const noexcept {
    if (backoff_ == Backoff::fixed || failed_attempt <= 1) return initial_;
    // long double: multiplier^(n-1) for n up to 2^32 overflows to +inf, never
    // wraps; the comparison sends inf (and anything >= cap) to the cap.
    const long double exponent = static_cast<long double>(failed_attempt - 1);
    const long double scaled =
        static_cast<long double>(initial_.count()) * std::pow(static_cast<long double>(multiplier_), exponent);
    if (!(scaled < static_cast<long double>(cap_.count()))) return cap_;
    // scaled < cap, so it fits in Rep; round to the nearest millisecond.
    return milliseconds{std::min(static_cast<Rep>(std::llround(scaled)), cap_.count())};
}

std::optional<milliseconds> Policy::next_delay(std::uint32_t failed_attempt, milliseconds elapsed,
                                               milliseconds previous_delay, std::mt19937_64& rng) const {
    if (failed_attempt == 0) {
        throw std::invalid_argument("retry::Policy::next_delay: attempts are numbered from 1");
    }
    if (failed_attempt >= max_attempts_) return std::nullopt;

    Rep delay = 0;
    if (jitter_ == Jitter::decorrelated) {
        const Rep lo = initial_.count();
        const Rep prev = non_negative(previous_delay);
        const Rep tripled = prev > kRepMax / 3 ? kRepMax : prev * 3;
        delay = std::min(cap_.count(), uniform(lo, std::max(lo, tripled), rng));
    } else {
        const Rep base = base_delay(failed_attempt).count();
        switch (jitter_) {
            case Jitter::none: delay = base; break;
            case Jitter::full: delay = uniform(0, base, rng); break;
            case Jitter::equal: delay = base / 2 + uniform(0, base - base / 2, rng); break;
            case Jitter::decorrelated: break;  // handled above
        }
    }

    if (max_elapsed_) {
        const Rep now = non_negative(elapsed);
        const Rep limit = max_elapsed_->count();
        // now + delay > limit, without overflowing.
        if (now > limit || delay > limit - now) return std::nullopt;
    }
    return milliseconds{delay};
}

std::string Policy::to_string() const {
    std::string out;
    if (backoff_ == Backoff::fixed) {
        out = fmt::format("fixed({})", format_duration(initial_));
    } else {
        out =
            fmt::format("exponential({}, x{}, cap {})", format_duration(initial_), multiplier_, format_duration(cap_));
    }
    out += fmt::format(", {} attempt{}", max_attempts_, max_attempts_ == 1 ? "" : "s");
    out += jitter_ == Jitter::none ? ", no jitter" : fmt::format(", {} jitter", retry::to_string(jitter_));
    if (max_elapsed_) out += fmt::format(", max elapsed {}", format_duration(*max_elapsed_));
    if (predicate_) out += ", custom retry_if";
    return out;
}

}  // namespace txflow::retry
