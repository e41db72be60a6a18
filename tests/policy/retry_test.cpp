#include "txflow/policy/retry.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace retry_test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
namespace retry = txflow::retry;

namespace {

constexpr std::uint64_t kSeed = 0x7478'666c'6f77ULL;

// Delays with jitter none and no elapsed limit, until the policy gives up.
std::vector<milliseconds> schedule(const retry::Policy& p) {
    std::mt19937_64 rng{kSeed};
    std::vector<milliseconds> out;
    milliseconds prev{0};
    for (std::uint32_t n = 1;; ++n) {
        const auto d = p.next_delay(n, 0ms, prev, rng);
        if (!d) break;
        out.push_back(*d);
        prev = *d;
    }
    return out;
}

struct Stats {
    milliseconds min{std::numeric_limits<milliseconds::rep>::max()};
    milliseconds max{std::numeric_limits<milliseconds::rep>::min()};
    long double mean = 0;
};

// `draws` delays after attempt `n`, with a fixed previous delay.
Stats draw(const retry::Policy& p, std::uint32_t n, milliseconds prev, int draws, std::uint64_t seed = kSeed) {
    std::mt19937_64 rng{seed};
    Stats s;
    long double sum = 0;
    for (int i = 0; i < draws; ++i) {
        const auto d = p.next_delay(n, 0ms, prev, rng);
        REQUIRE(d.has_value());
        s.min = std::min(s.min, *d);
        s.max = std::max(s.max, *d);
        sum += static_cast<long double>(d->count());
    }
    s.mean = sum / draws;
    return s;
}

}  // namespace

TEST_CASE("fixed: the same delay every time", "[policy][retry]") {
    const auto p = retry::fixed(250ms).attempts(4);
    CHECK(schedule(p) == std::vector<milliseconds>{250ms, 250ms, 250ms});
    CHECK(p.backoff() == retry::Backoff::fixed);
    CHECK(p.initial() == 250ms);
    CHECK(p.cap() == 250ms);
    CHECK(retry::fixed(0ms).attempts(3).base_delay(2) == 0ms);  // immediate retry is allowed
}

TEST_CASE("exponential: doubling, then held at the cap", "[policy][retry]") {
    const auto p = retry::exponential(1s, 2.0, 5s).attempts(7);
    CHECK(schedule(p) == std::vector<milliseconds>{1s, 2s, 4s, 5s, 5s, 5s});

    SECTION("non-integer multiplier rounds to the millisecond") {
        const auto q = retry::exponential(100ms, 1.5, 1min).attempts(6);
        CHECK(schedule(q) == std::vector<milliseconds>{100ms, 150ms, 225ms, 338ms, 506ms});
    }
    SECTION("multiplier 1 is a fixed delay") {
        CHECK(schedule(retry::exponential(3s, 1.0, 1min).attempts(4)) == std::vector<milliseconds>{3s, 3s, 3s});
    }
    SECTION("base_delay matches") {
        CHECK(p.base_delay(1) == 1s);
        CHECK(p.base_delay(3) == 4s);
        CHECK(p.base_delay(4) == 5s);
    }
}

TEST_CASE("attempts counts the first attempt", "[policy][retry]") {
    std::mt19937_64 rng{kSeed};
    SECTION("attempts(1) never retries") {
        const auto p = retry::fixed(1s).attempts(1);
        CHECK_FALSE(p.next_delay(1, 0ms, 0ms, rng).has_value());
    }
    SECTION("attempts(3): retries after attempts 1 and 2, not 3") {
        const auto p = retry::fixed(1s).attempts(3);
        CHECK(p.next_delay(1, 0ms, 0ms, rng) == 1s);
        CHECK(p.next_delay(2, 1s, 1s, rng) == 1s);
        CHECK_FALSE(p.next_delay(3, 2s, 1s, rng).has_value());
        CHECK_FALSE(p.next_delay(4, 3s, 1s, rng).has_value());
    }
    SECTION("default") {
        const auto p = retry::fixed(1s);
        CHECK(p.max_attempts() == retry::Policy::kDefaultAttempts);
        CHECK(schedule(p).size() == retry::Policy::kDefaultAttempts - 1);
    }
}

TEST_CASE("max_elapsed: give up when the next attempt would start after the limit", "[policy][retry]") {
    std::mt19937_64 rng{kSeed};
    const auto p = retry::exponential(1s, 2.0, 1min).attempts(100).max_elapsed(10s);
    CHECK(p.max_elapsed() == 10s);
    CHECK(p.next_delay(1, 0ms, 0ms, rng) == 1s);
    CHECK(p.next_delay(3, 6s, 2s, rng) == 4s);                  // starts at exactly 10s: allowed
    CHECK_FALSE(p.next_delay(3, 6001ms, 2s, rng).has_value());  // 10.001s: too late
    CHECK_FALSE(p.next_delay(2, 11s, 1s, rng).has_value());     // already past
    CHECK(p.next_delay(2, -5s, 1s, rng) == 2s);                 // negative elapsed counts as 0

    SECTION("a simulated run: attempts take 500ms each") {
        milliseconds elapsed{0}, prev{0};
        std::vector<milliseconds> delays;
        for (std::uint32_t n = 1;; ++n) {
            elapsed += 500ms;  // attempt n runs, then fails
            const auto d = p.next_delay(n, elapsed, prev, rng);
            if (!d) break;
            delays.push_back(*d);
            elapsed += *d;
            prev = *d;
        }
        // 0.5 +1 +0.5 +2 +0.5 +4 = 8.5s; next would start at 8.5+0.5+8 = 17s > 10s.
        CHECK(delays == std::vector<milliseconds>{1s, 2s, 4s});
    }
    SECTION("zero limit: no retry unless the delay is zero") {
        CHECK_FALSE(retry::fixed(1ms).max_elapsed(0ms).next_delay(1, 0ms, 0ms, rng).has_value());
        CHECK(retry::fixed(0ms).max_elapsed(0ms).next_delay(1, 0ms, 0ms, rng) == 0ms);
    }
    SECTION("no overflow near the top of the range") {
        const auto q = retry::fixed(1h).max_elapsed(milliseconds::max());
        CHECK_FALSE(q.next_delay(1, milliseconds::max() - 1ms, 0ms, rng).has_value());
        CHECK(q.next_delay(1, milliseconds::max() - 1h, 0ms, rng) == 1h);
    }
}

TEST_CASE("full jitter: uniform over [0, base]", "[policy][retry]") {
    const auto p = retry::exponential(1s, 2.0, 1min).attempts(10).jitter_full();
    const auto s = draw(p, 3, 0ms, 20'000);  // base 4000ms
    CHECK(s.min >= 0ms);
    CHECK(s.max <= 4s);
    CHECK(s.min <= 100ms);  // covers the range, not a constant
    CHECK(s.max >= 3900ms);
    CHECK(s.mean == Approx(2000.0L).epsilon(0.03));

    SECTION("at the cap") {
        const auto c = draw(p, 9, 0ms, 20'000);  // base min(60s, 256s) = 60s
        CHECK(c.max <= 1min);
        CHECK(c.max >= 58s);
        CHECK(c.min <= 2s);
    }
    SECTION("tiny base: both ends are hit") {
        const auto t = draw(retry::fixed(1ms).attempts(2).jitter_full(), 1, 0ms, 2'000);
        CHECK(t.min == 0ms);
        CHECK(t.max == 1ms);
    }
}

TEST_CASE("equal jitter: [base/2, base]", "[policy][retry]") {
    const auto p = retry::exponential(1s, 2.0, 1min).attempts(10).jitter_equal();
    const auto s = draw(p, 3, 0ms, 20'000);  // base 4000ms
    CHECK(s.min >= 2s);
    CHECK(s.max <= 4s);
    CHECK(s.min <= 2050ms);
    CHECK(s.max >= 3950ms);
    CHECK(s.mean == Approx(3000.0L).epsilon(0.02));

    SECTION("odd base stays within [base/2, base]") {
        const auto t = draw(retry::fixed(5ms).attempts(2).jitter_equal(), 1, 0ms, 2'000);
        CHECK(t.min == 2ms);
        CHECK(t.max == 5ms);
    }
}

TEST_CASE("decorrelated jitter: min(cap, uniform[initial, 3 * previous])", "[policy][retry]") {
    const auto p = retry::exponential(1s, 2.0, 20s).attempts(1000).jitter_decorrelated();
    std::mt19937_64 rng{kSeed};

    SECTION("after the first attempt (previous 0) the delay is initial") {
        CHECK(p.next_delay(1, 0ms, 0ms, rng) == 1s);
    }
    SECTION("below the cap: covers [initial, 3 * previous]") {
        const auto s = draw(p, 5, 4s, 20'000);  // uniform[1s, 12s]
        CHECK(s.min >= 1s);
        CHECK(s.max <= 12s);
        CHECK(s.min <= 1100ms);
        CHECK(s.max >= 11900ms);
        CHECK(s.mean == Approx(6500.0L).epsilon(0.03));
    }
    SECTION("clamped at the cap") {
        const auto s = draw(p, 5, 15s, 20'000);  // uniform[1s, 45s], capped at 20s
        CHECK(s.min >= 1s);
        CHECK(s.max == 20s);
        CHECK(s.min <= 1200ms);
    }
    SECTION("a chain never leaves [initial, cap]") {
        milliseconds prev{0}, lo{milliseconds::max()}, hi{0};
        for (std::uint32_t n = 1; n < 1000; ++n) {
            const auto d = p.next_delay(n, 0ms, prev, rng);
            REQUIRE(d.has_value());
            REQUIRE(*d >= 1s);
            REQUIRE(*d <= 20s);
            if (prev > 0ms) REQUIRE(*d <= std::max<milliseconds>(1s, prev * 3));
            lo = std::min(lo, *d);
            hi = std::max(hi, *d);
            prev = *d;
        }
        CHECK(hi == 20s);  // reaches the cap
        CHECK(lo < 3s);    // and comes back down
    }
    SECTION("huge previous delay does not overflow") {
        CHECK(p.next_delay(2, 0ms, milliseconds::max(), rng).value() <= 20s);
    }
    SECTION("fixed: always the delay") {
        const auto f = retry::fixed(700ms).attempts(5).jitter_decorrelated();
        const auto s = draw(f, 2, 700ms, 1'000);
        CHECK(s.min == 700ms);
        CHECK(s.max == 700ms);
    }
}

TEST_CASE("the same seed gives the same jittered schedule", "[policy][retry]") {
    for (const auto mode : {retry::Jitter::full, retry::Jitter::equal, retry::Jitter::decorrelated}) {
        CAPTURE(retry::to_string(mode));
        const auto p = retry::exponential(100ms, 2.0, 10s).attempts(50).jitter(mode);
        auto run = [&](std::uint64_t seed) {
            std::mt19937_64 rng{seed};
            std::vector<milliseconds> out;
            milliseconds prev{0};
            for (std::uint32_t n = 1; n < 50; ++n) {
                prev = p.next_delay(n, 0ms, prev, rng).value();
                out.push_back(prev);
            }
            return out;
        };
        CHECK(run(42) == run(42));
        CHECK(run(42) != run(43));
    }
    // Our own sampling, not std::uniform_int_distribution: pinned across libraries.
    std::mt19937_64 rng{42};
    const auto p = retry::fixed(1s).attempts(5).jitter_full();
    std::vector<milliseconds> got;
    for (int i = 0; i < 4; ++i) got.push_back(p.next_delay(1, 0ms, 0ms, rng).value());
    std::mt19937_64 ref{42};
    std::vector<milliseconds> want;
    for (int i = 0; i < 4; ++i) {
        // span 1001; 2^64 mod 1001 is tiny, so a rejection here is vanishingly rare.
        want.push_back(milliseconds{static_cast<milliseconds::rep>(ref() % 1001)});
    }
    CHECK(got == want);
}

TEST_CASE("retry_if chooses which failures are retryable", "[policy][retry]") {
    const auto timeout = std::make_exception_ptr(std::system_error(std::make_error_code(std::errc::timed_out)));
    const auto bug = std::make_exception_ptr(std::logic_error("bug"));

    const auto any = retry::fixed(1s);
    CHECK(any.retryable(timeout));
    CHECK(any.retryable(bug));
    CHECK(any.retryable(nullptr));
    CHECK_FALSE(any.has_predicate());

    auto only_system = retry::fixed(1s).retry_if([](const std::exception_ptr& e) {
        try {
            if (e) std::rethrow_exception(e);
        } catch (const std::system_error&) {
            return true;
        } catch (...) {
        }
        return false;
    });
    CHECK(only_system.has_predicate());
    CHECK(only_system.retryable(timeout));
    CHECK_FALSE(only_system.retryable(bug));

    // Value semantics: a copy keeps the predicate; changing the copy leaves the original.
    auto copy = only_system;
    copy.retry_if([](const std::exception_ptr&) { return true; });
    CHECK(copy.retryable(bug));
    CHECK_FALSE(only_system.retryable(bug));
}

TEST_CASE("invalid arguments throw std::invalid_argument", "[policy][retry]") {
    CHECK_THROWS_AS(retry::exponential(0ms, 2.0, 1s), std::invalid_argument);
    CHECK_THROWS_AS(retry::exponential(-1ms, 2.0, 1s), std::invalid_argument);
    CHECK_THROWS_AS(retry::exponential(1s, 0.5, 1min), std::invalid_argument);
    CHECK_THROWS_AS(retry::exponential(1s, std::numeric_limits<double>::quiet_NaN(), 1min), std::invalid_argument);
    CHECK_THROWS_AS(retry::exponential(1s, std::numeric_limits<double>::infinity(), 1min), std::invalid_argument);
    CHECK_THROWS_WITH(retry::exponential(2s, 2.0, 1s), Catch::Contains("cap") && Catch::Contains("initial"));
    CHECK_THROWS_AS(retry::fixed(-1ms), std::invalid_argument);
    CHECK_THROWS_WITH(retry::fixed(1s).attempts(0), Catch::Contains(">= 1"));
    CHECK_THROWS_AS(retry::fixed(1s).max_elapsed(-1ms), std::invalid_argument);
    CHECK_THROWS_AS(retry::fixed(1s).retry_if(nullptr), std::invalid_argument);
    std::mt19937_64 rng{kSeed};
    CHECK_THROWS_AS((void)retry::fixed(1s).next_delay(0, 0ms, 0ms, rng), std::invalid_argument);
    CHECK_NOTHROW(retry::exponential(1s, 1.0, 1s));  // the boundaries are valid
}

TEST_CASE("huge attempt numbers: no overflow, held at the cap", "[policy][retry]") {
    constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
    std::mt19937_64 rng{kSeed};
    const auto p = retry::exponential(1s, 2.0, 1h).attempts(kMax);
    for (const std::uint32_t n : {40u, 64u, 1'000u, 16'500u, 1'000'000u, kMax - 1}) {
        CAPTURE(n);
        CHECK(p.base_delay(n) == 1h);
        CHECK(p.next_delay(n, 0ms, 1h, rng) == 1h);
    }
    CHECK_FALSE(p.next_delay(kMax, 0ms, 1h, rng).has_value());

    // A cap near the top of the representable range, and a huge multiplier.
    const auto big = retry::exponential(1ms, 1e300, milliseconds::max()).attempts(kMax);
    CHECK(big.base_delay(2) == milliseconds::max());
    CHECK(big.base_delay(kMax - 1) == milliseconds::max());
    auto full = big;
    full.jitter_full();
    CHECK(full.next_delay(kMax - 1, 0ms, 0ms, rng).value() >= 0ms);
    auto equal = big;
    equal.jitter_equal();
    CHECK(equal.next_delay(kMax - 1, 0ms, 0ms, rng).value() >= milliseconds::max() / 2);
}

TEST_CASE("to_string describes the policy", "[policy][retry]") {
    CHECK(retry::exponential(1s, 2.0, 1min).attempts(5).jitter_full().to_string() ==
          "exponential(1s, x2, cap 1m), 5 attempts, full jitter");
    CHECK(retry::exponential(250ms, 1.5, 2h).to_string() == "exponential(250ms, x1.5, cap 2h), 3 attempts, no jitter");
    CHECK(retry::fixed(1500ms).attempts(1).max_elapsed(30s).jitter_decorrelated().to_string() ==
          "fixed(1s500ms), 1 attempt, decorrelated jitter, max elapsed 30s");
    CHECK(retry::fixed(1s).retry_if([](const std::exception_ptr&) { return false; }).to_string() ==
          "fixed(1s), 3 attempts, no jitter, custom retry_if");
}

}  // namespace retry_test
