#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "txflow/core/clock.hpp"
#include "txflow/policy/rate_limit.hpp"

namespace rate_limit_test {

using namespace std::chrono_literals;
using Catch::Detail::Approx;
using txflow::ManualClock;
using txflow::TokenBucket;

namespace {

ManualClock make_clock() {
    return ManualClock{txflow::WallTime{}};
}

}  // namespace

TEST_CASE("token bucket: starts full and allows a burst", "[policy][ratelimit]") {
    auto clock = make_clock();
    TokenBucket bucket(10.0, 5.0, clock);
    CHECK(bucket.available() == 5.0);
    for (int i = 0; i < 5; ++i) CHECK(bucket.try_take());
    CHECK_FALSE(bucket.try_take());
    CHECK(bucket.available() == Approx(0.0).margin(1e-12));
    CHECK(bucket.rate() == 10.0);
    CHECK(bucket.burst() == 5.0);
}

TEST_CASE("token bucket: refills at the rate as the clock moves", "[policy][ratelimit]") {
    auto clock = make_clock();
    TokenBucket bucket(10.0, 5.0, clock);  // one token per 100ms
    for (int i = 0; i < 5; ++i) REQUIRE(bucket.try_take());

    clock.advance(99ms);
    CHECK_FALSE(bucket.try_take());
    clock.advance(1ms);
    CHECK(bucket.try_take());
    CHECK_FALSE(bucket.try_take());

    clock.advance(250ms);
    CHECK(bucket.available() == Approx(2.5));
    CHECK(bucket.try_take(2));
    CHECK_FALSE(bucket.try_take());
    CHECK(bucket.available() == Approx(0.5));
}

TEST_CASE("token bucket: fractional tokens", "[policy][ratelimit]") {
    auto clock = make_clock();
    TokenBucket bucket(2.0, 1.0, clock);
    CHECK(bucket.try_take(0.25));
    CHECK(bucket.try_take(0.5));
    CHECK_FALSE(bucket.try_take(0.5));
    CHECK(bucket.available() == Approx(0.25));
    clock.advance(125ms);  // + 0.25
    CHECK(bucket.try_take(0.5));
    CHECK(bucket.try_take(0.0));  // taking nothing always works
    CHECK(bucket.available() == Approx(0.0).margin(1e-12));
}

TEST_CASE("token bucket: never holds more than burst", "[policy][ratelimit]") {
    auto clock = make_clock();
    TokenBucket bucket(100.0, 3.0, clock);
    clock.advance(std::chrono::hours{1});
    CHECK(bucket.available() == 3.0);
    REQUIRE(bucket.try_take(2.5));
    clock.advance(1s);  // would add 100
    CHECK(bucket.available() == 3.0);
    for (int i = 0; i < 3; ++i) CHECK(bucket.try_take());
    CHECK_FALSE(bucket.try_take());
}

TEST_CASE("token bucket: many small refills add up exactly enough", "[policy][ratelimit]") {
    auto clock = make_clock();
    TokenBucket bucket(3.0, 3.0, clock);
    REQUIRE(bucket.try_take(3.0));
    for (int i = 0; i < 1000; ++i) {  // 1s in 1ms steps, each one folded in
        clock.advance(1ms);
        (void)bucket.available();
    }
    CHECK(bucket.available() == Approx(3.0));
    CHECK(bucket.try_take(3.0));  // rounding error does not cost a token
}

TEST_CASE("token bucket: time_until a request can succeed", "[policy][ratelimit]") {
    auto clock = make_clock();
    TokenBucket bucket(4.0, 2.0, clock);  // one token per 250ms
    CHECK(bucket.time_until() == 0ns);
    REQUIRE(bucket.try_take(2.0));
    CHECK(bucket.time_until() == 250ms);
    CHECK(bucket.time_until(2.0) == 500ms);
    clock.advance(100ms);
    CHECK(bucket.time_until() == 150ms);
    clock.advance(150ms);
    CHECK(bucket.time_until() == 0ns);
    CHECK(bucket.try_take());
}

TEST_CASE("token bucket: arguments are validated", "[policy][ratelimit]") {
    auto clock = make_clock();
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(TokenBucket(0.0, 1.0, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(-1.0, 1.0, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(nan, 1.0, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(inf, 1.0, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(1.0, 0.0, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(1.0, -2.0, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(1.0, nan, clock), std::invalid_argument);
    CHECK_THROWS_AS(TokenBucket(1.0, inf, clock), std::invalid_argument);

    TokenBucket bucket(1.0, 2.0, clock);
    CHECK_THROWS_AS(bucket.try_take(-1.0), std::invalid_argument);
    CHECK_THROWS_AS(bucket.try_take(nan), std::invalid_argument);
    CHECK_THROWS_AS(bucket.try_take(inf), std::invalid_argument);
    CHECK_THROWS_AS(bucket.try_take(2.5), std::invalid_argument);  // more than burst: could never succeed
    CHECK_THROWS_AS(bucket.time_until(2.5), std::invalid_argument);
    CHECK(bucket.available() == 2.0);  // failed calls took nothing
    CHECK(bucket.try_take(2.0));
}

TEST_CASE("token bucket: concurrent takers never get more than was refilled", "[policy][ratelimit]") {
    auto clock = make_clock();
    constexpr double kBurst = 20.0;
    TokenBucket bucket(1000.0, kBurst, clock);  // 10 tokens per 10ms step

    constexpr int kThreads = 4;
    constexpr int kSteps = 200;
    std::atomic<long> taken{0};
    std::atomic<bool> stop{false};
    std::atomic<long> over_burst{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            while (!stop.load()) {
                if (bucket.try_take()) taken.fetch_add(1, std::memory_order_relaxed);
                if (bucket.available() > kBurst) over_burst.fetch_add(1, std::memory_order_relaxed);
                std::this_thread::yield();
            }
        });
    }
    // Refill only once the takers have drained the bucket, so no refill is lost
    // to the burst cap and the count is exact.
    int steps = 0;
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (steps < kSteps && std::chrono::steady_clock::now() < give_up) {
        if (bucket.available() < 1.0) {
            clock.advance(10ms);
            ++steps;
        } else {
            std::this_thread::yield();
        }
    }
    while (bucket.available() >= 1.0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    stop.store(true);
    for (auto& thread : threads) thread.join();

    REQUIRE(steps == kSteps);
    CHECK(over_burst.load() == 0);
    // Every whole token put in (burst + 10 per step) was taken, and no more.
    const double remaining = bucket.available();
    CHECK(remaining < 1.0);
    CHECK(static_cast<double>(taken.load()) + remaining == Approx(kBurst + 10.0 * kSteps));
}

}  // namespace rate_limit_test
