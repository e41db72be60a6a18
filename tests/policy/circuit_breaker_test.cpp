#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "txflow/core/clock.hpp"
#include "txflow/policy/circuit_breaker.hpp"

namespace circuit_breaker_test {

using namespace std::chrono_literals;
using txflow::BreakerOptions;
using txflow::BreakerRegistry;
using txflow::BreakerState;
using txflow::CircuitBreaker;
using txflow::ManualClock;

namespace {

ManualClock make_clock() {
    return ManualClock{txflow::WallTime{}};
}

// A small window so each rule is easy to drive by hand.
BreakerOptions small_options() {
    BreakerOptions options;
    options.window = 10;
    options.min_calls = 10;
    options.failure_rate = 0.5;
    options.open_for = 1s;
    options.half_open_probes = 3;
    return options;
}

void succeed(CircuitBreaker& breaker, int n, std::chrono::nanoseconds latency = 1ms) {
    for (int i = 0; i < n; ++i) {
        REQUIRE(breaker.try_acquire());
        breaker.record_success(latency);
    }
}

void fail(CircuitBreaker& breaker, int n, std::chrono::nanoseconds latency = 1ms) {
    for (int i = 0; i < n; ++i) {
        REQUIRE(breaker.try_acquire());
        breaker.record_failure(latency);
    }
}

struct Change {
    std::string name;
    BreakerState from;
    BreakerState to;
    bool operator==(const Change&) const = default;
};

// Records state changes; safe to call from any thread.
class ChangeLog {
public:
    void attach(CircuitBreaker& breaker) {
        breaker.on_state_change([this](std::string_view name, BreakerState from, BreakerState to) {
            const std::lock_guard lock(mutex_);
            changes_.push_back(Change{std::string(name), from, to});
        });
    }
    std::vector<Change> changes() const {
        const std::lock_guard lock(mutex_);
        return changes_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Change> changes_;
};

// Opens a breaker built from small_options().
void trip(CircuitBreaker& breaker) {
    fail(breaker, 10);
    REQUIRE(breaker.state() == BreakerState::open);
}

}  // namespace

TEST_CASE("breaker: opens exactly at the failure-rate threshold", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);

    succeed(breaker, 5);
    fail(breaker, 4);
    CHECK(breaker.state() == BreakerState::closed);  // 9 calls: below min_calls
    fail(breaker, 1);                                // 5 / 10 == 0.5
    CHECK(breaker.state() == BreakerState::open);
    CHECK(breaker.stats().failures == 5);
    CHECK(breaker.stats().failure_rate == 0.5);
}

TEST_CASE("breaker: just under the threshold stays closed; the window rolls", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);

    succeed(breaker, 6);
    fail(breaker, 4);  // 4 / 10
    CHECK(breaker.state() == BreakerState::closed);
    CHECK(breaker.stats().calls == 10);
    fail(breaker, 1);  // the oldest success leaves the window: 5 / 10
    CHECK(breaker.state() == BreakerState::open);
    CHECK(breaker.stats().calls == 10);
}

TEST_CASE("breaker: a threshold like 0.3 is met at exactly 3 of 10", "[policy][breaker]") {
    auto clock = make_clock();
    auto options = small_options();
    options.failure_rate = 0.3;
    CircuitBreaker breaker("db", options, clock);
    succeed(breaker, 7);
    fail(breaker, 3);
    CHECK(breaker.state() == BreakerState::open);
}

TEST_CASE("breaker: no decision below min_calls", "[policy][breaker]") {
    auto clock = make_clock();
    auto options = small_options();
    options.min_calls = 5;
    CircuitBreaker breaker("db", options, clock);

    fail(breaker, 4);  // 100% failures, but only 4 calls
    CHECK(breaker.state() == BreakerState::closed);
    CHECK(breaker.stats().failure_rate == 1.0);
    fail(breaker, 1);
    CHECK(breaker.state() == BreakerState::open);
}

TEST_CASE("breaker: slow calls open it without any failure", "[policy][breaker]") {
    auto clock = make_clock();
    BreakerOptions options;  // window 20, min_calls 10, p95
    options.slow_call = 100ms;
    CircuitBreaker breaker("api", options, clock);

    succeed(breaker, 19, 10ms);
    succeed(breaker, 1, 500ms);  // 1 of 20 slow: p95 (rank 19) is still 10ms
    CHECK(breaker.state() == BreakerState::closed);
    CHECK(breaker.stats().latency_percentile == 10ms);
    CHECK(breaker.stats().slow_calls == 1);

    succeed(breaker, 1, 500ms);  // 2 of 20 slow: p95 is 500ms > 100ms
    CHECK(breaker.state() == BreakerState::open);
    const auto stats = breaker.stats();
    CHECK(stats.failures == 0);
    CHECK(stats.slow_calls == 2);
    CHECK(stats.latency_percentile == 500ms);
}

TEST_CASE("breaker: the latency rule needs a percentile strictly over the limit and min_calls", "[policy][breaker]") {
    auto clock = make_clock();
    auto options = small_options();
    options.slow_call = 100ms;
    options.slow_percentile = 0.5;

    SECTION("exactly at the limit is not slow") {
        CircuitBreaker breaker("api", options, clock);
        succeed(breaker, 10, 100ms);
        CHECK(breaker.state() == BreakerState::closed);
        CHECK(breaker.stats().slow_calls == 0);
    }
    SECTION("below min_calls") {
        CircuitBreaker breaker("api", options, clock);
        succeed(breaker, 9, 1s);
        CHECK(breaker.state() == BreakerState::closed);
        succeed(breaker, 1, 1s);
        CHECK(breaker.state() == BreakerState::open);
    }
    SECTION("slow failures count for latency too") {
        options.failure_rate = 1.0;
        CircuitBreaker breaker("api", options, clock);
        succeed(breaker, 5, 1ms);
        fail(breaker, 4, 1s);  // 4 / 9: not yet min_calls
        CHECK(breaker.state() == BreakerState::closed);
        fail(breaker, 1, 1s);  // p50 of 10 (rank 5) is 1ms; failure rate 0.5 < 1.0
        CHECK(breaker.state() == BreakerState::closed);
        fail(breaker, 1, 1s);  // oldest 1ms call leaves: 4 fast, 6 slow -> p50 is 1s
        CHECK(breaker.state() == BreakerState::open);
    }
    SECTION("no slow-call rule when slow_call is 0") {
        options.slow_call = 0ms;
        CircuitBreaker breaker("api", options, clock);
        succeed(breaker, 10, 1h);
        CHECK(breaker.state() == BreakerState::closed);
        CHECK(breaker.stats().latency_percentile == 1h);
    }
}

TEST_CASE("breaker: open fails fast until open_for has passed, then half-opens", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);
    trip(breaker);

    for (int i = 0; i < 5; ++i) CHECK_FALSE(breaker.try_acquire());
    clock.advance(999ms);
    CHECK(breaker.state() == BreakerState::open);
    CHECK_FALSE(breaker.try_acquire());

    clock.advance(1ms);  // exactly open_for
    CHECK(breaker.state() == BreakerState::half_open);
    CHECK(breaker.try_acquire());
}

TEST_CASE("breaker: open -> half-open is noticed by try_acquire too", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);
    ChangeLog log;
    log.attach(breaker);
    trip(breaker);
    clock.advance(5s);
    CHECK(breaker.try_acquire());  // no state() call in between
    CHECK(breaker.stats().probes_in_flight == 1);
    CHECK(log.changes().back() == Change{"db", BreakerState::open, BreakerState::half_open});
}

TEST_CASE("breaker: half-open lets only half_open_probes calls through", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);
    trip(breaker);
    clock.advance(1s);

    CHECK(breaker.try_acquire());
    CHECK(breaker.try_acquire());
    CHECK(breaker.try_acquire());
    CHECK_FALSE(breaker.try_acquire());  // all three probes in flight
    CHECK(breaker.stats().probes_in_flight == 3);

    breaker.record_success(1ms);  // one probe back: still not a fourth
    CHECK(breaker.state() == BreakerState::half_open);
    CHECK_FALSE(breaker.try_acquire());
    CHECK(breaker.stats().probes_in_flight == 2);
}

TEST_CASE("breaker: all probes succeed -> closed with a cleared window", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);
    trip(breaker);
    clock.advance(1s);

    for (int i = 0; i < 3; ++i) REQUIRE(breaker.try_acquire());
    breaker.record_success(1ms);
    breaker.record_success(1ms);
    CHECK(breaker.state() == BreakerState::half_open);
    breaker.record_success(1ms);
    CHECK(breaker.state() == BreakerState::closed);

    const auto stats = breaker.stats();
    CHECK(stats.calls == 0);
    CHECK(stats.failures == 0);
    CHECK(stats.failure_rate == 0.0);

    // The failures that opened it are gone: 9 more failures are below min_calls.
    fail(breaker, 9);
    CHECK(breaker.state() == BreakerState::closed);
    fail(breaker, 1);
    CHECK(breaker.state() == BreakerState::open);
}

TEST_CASE("breaker: a failed probe opens it again for a fresh open_for", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);
    trip(breaker);
    clock.advance(1s);

    REQUIRE(breaker.try_acquire());
    REQUIRE(breaker.try_acquire());
    breaker.record_success(1ms);
    breaker.record_failure(1ms);
    CHECK(breaker.state() == BreakerState::open);
    CHECK_FALSE(breaker.try_acquire());

    clock.advance(999ms);
    CHECK(breaker.state() == BreakerState::open);
    clock.advance(1ms);
    CHECK(breaker.state() == BreakerState::half_open);
    // A new half-open period: the full probe budget again.
    for (int i = 0; i < 3; ++i) CHECK(breaker.try_acquire());
    CHECK_FALSE(breaker.try_acquire());
}

TEST_CASE("breaker: a slow probe opens it again", "[policy][breaker]") {
    auto clock = make_clock();
    auto options = small_options();
    options.slow_call = 100ms;
    CircuitBreaker breaker("db", options, clock);
    trip(breaker);
    clock.advance(1s);

    REQUIRE(breaker.try_acquire());
    breaker.record_success(100ms);  // at the limit: fine
    CHECK(breaker.state() == BreakerState::half_open);
    REQUIRE(breaker.try_acquire());
    breaker.record_success(101ms);  // a success, but slow
    CHECK(breaker.state() == BreakerState::open);
}

TEST_CASE("breaker: outcomes of calls let through before it opened are ignored", "[policy][breaker]") {
    auto clock = make_clock();
    CircuitBreaker breaker("db", small_options(), clock);
    // Ten calls in flight while closed.
    for (int i = 0; i < 10; ++i) REQUIRE(breaker.try_acquire());
    for (int i = 0; i < 10; ++i) breaker.record_failure(1ms);
    REQUIRE(breaker.state() == BreakerState::open);
    breaker.record_success(1ms);  // while open: ignored
    CHECK(breaker.stats().calls == 10);

    clock.advance(1s);
    REQUIRE(breaker.state() == BreakerState::half_open);
    breaker.record_failure(1ms);  // half-open, but no probe was let through: a straggler
    CHECK(breaker.state() == BreakerState::half_open);
    for (int i = 0; i < 3; ++i) REQUIRE(breaker.try_acquire());
    for (int i = 0; i < 3; ++i) breaker.record_success(1ms);
    CHECK(breaker.state() == BreakerState::closed);
}

TEST_CASE("breaker: state-change callbacks see every change in order", "[policy][breaker]") {
    auto clock = make_clock();
    auto options = small_options();
    options.half_open_probes = 1;
    CircuitBreaker breaker("payments", options, clock);
    ChangeLog log;
    log.attach(breaker);
    // A callback may call back into the breaker: it runs outside the lock.
    std::vector<BreakerState> seen_inside;
    breaker.on_state_change(
        [&](std::string_view, BreakerState, BreakerState) { seen_inside.push_back(breaker.stats().state); });

    trip(breaker);                   // closed -> open
    clock.advance(1s);               //
    REQUIRE(breaker.try_acquire());  // open -> half_open
    breaker.record_failure(1ms);     // half_open -> open
    clock.advance(1s);
    CHECK(breaker.state() == BreakerState::half_open);  // open -> half_open
    REQUIRE(breaker.try_acquire());
    breaker.record_success(1ms);  // half_open -> closed

    using S = BreakerState;
    const std::vector<Change> expected{
        {"payments", S::closed, S::open},    {"payments", S::open, S::half_open},   {"payments", S::half_open, S::open},
        {"payments", S::open, S::half_open}, {"payments", S::half_open, S::closed},
    };
    CHECK(log.changes() == expected);
    CHECK(seen_inside == std::vector<S>{S::open, S::half_open, S::open, S::half_open, S::closed});
    CHECK_THROWS_AS(breaker.on_state_change({}), std::invalid_argument);
}

TEST_CASE("breaker: the registry shares one breaker per name", "[policy][breaker]") {
    auto clock = make_clock();
    BreakerRegistry registry(clock);
    const auto options = small_options();

    auto a = registry.get("inventory", options);
    auto b = registry.get("inventory", options);
    auto other = registry.get("billing");
    CHECK(a == b);
    CHECK(a != other);
    CHECK(a->name() == "inventory");
    CHECK(other->options() == BreakerOptions{});
    CHECK(registry.find("inventory") == a);
    CHECK(registry.find("nope") == nullptr);
    CHECK(registry.names() == std::vector<std::string>{"billing", "inventory"});

    // Failures reported by one job open the breaker for every job sharing it.
    fail(*a, 10);
    CHECK(b->state() == BreakerState::open);
    CHECK_FALSE(b->try_acquire());
    CHECK(other->state() == BreakerState::closed);

    SECTION("different options for an existing name throw") {
        auto changed = options;
        changed.window = 11;
        CHECK_THROWS_AS(registry.get("inventory", changed), std::invalid_argument);
        CHECK_THROWS_AS(registry.get("inventory"), std::invalid_argument);
        CHECK(registry.find("inventory") == a);
    }
    SECTION("invalid options throw and register nothing") {
        auto bad = options;
        bad.window = 0;
        CHECK_THROWS_AS(registry.get("broken", bad), std::invalid_argument);
        CHECK(registry.find("broken") == nullptr);
    }
}

TEST_CASE("breaker: options are validated", "[policy][breaker]") {
    auto clock = make_clock();
    const auto make = [&](BreakerOptions options) { return CircuitBreaker("x", options, clock); };
    const auto throws = [&](auto mutate) {
        BreakerOptions options;
        mutate(options);
        CHECK_THROWS_AS(txflow::validate(options), std::invalid_argument);
        CHECK_THROWS_AS(CircuitBreaker("x", options, clock), std::invalid_argument);
    };

    CHECK_NOTHROW(make(BreakerOptions{}));
    throws([](BreakerOptions& o) { o.window = 0; });
    throws([](BreakerOptions& o) { o.min_calls = 21; });
    throws([](BreakerOptions& o) { o.failure_rate = 0.0; });
    throws([](BreakerOptions& o) { o.failure_rate = 1.01; });
    throws([](BreakerOptions& o) { o.failure_rate = std::numeric_limits<double>::quiet_NaN(); });
    throws([](BreakerOptions& o) { o.slow_call = -1ms; });
    throws([](BreakerOptions& o) { o.slow_percentile = 0.0; });
    throws([](BreakerOptions& o) { o.slow_percentile = 1.5; });
    throws([](BreakerOptions& o) { o.open_for = -1ms; });
    throws([](BreakerOptions& o) { o.half_open_probes = 0; });

    // The edges of each range are valid.
    BreakerOptions edges;
    edges.window = 1;
    edges.min_calls = 1;
    edges.failure_rate = 1.0;
    edges.slow_percentile = 1.0;
    edges.open_for = 0ms;
    edges.half_open_probes = 1;
    CHECK_NOTHROW(txflow::validate(edges));
    CHECK_NOTHROW(make(edges));
}

TEST_CASE("breaker: to_string", "[policy][breaker]") {
    STATIC_REQUIRE(txflow::to_string(BreakerState::closed) == "closed");
    STATIC_REQUIRE(txflow::to_string(BreakerState::open) == "open");
    STATIC_REQUIRE(txflow::to_string(BreakerState::half_open) == "half_open");
}

TEST_CASE("breaker: concurrent acquire/record stays consistent", "[policy][breaker]") {
    auto clock = make_clock();
    BreakerOptions options;
    options.window = 10;
    options.min_calls = 5;
    options.failure_rate = 0.3;
    options.slow_call = 50ms;
    options.open_for = 10ms;
    options.half_open_probes = 2;
    CircuitBreaker breaker("shared", options, clock);
    ChangeLog log;
    log.attach(breaker);

    constexpr int kThreads = 4;
    constexpr int kIterations = 3000;
    std::atomic<long> acquired{0};
    std::atomic<long> rejected{0};
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kIterations; ++i) {
                if (!breaker.try_acquire()) {
                    rejected.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                acquired.fetch_add(1, std::memory_order_relaxed);
                // A mix of outcomes: failures, slow successes, fast successes.
                switch ((i + t) % 4) {
                    case 0: breaker.record_failure(1ms); break;
                    case 1: breaker.record_success(60ms); break;
                    default: breaker.record_success(1ms); break;
                }
                if (i % 64 == 0) (void)breaker.stats();
            }
            done.fetch_add(1);
        });
    }
    // Move time on meanwhile so open breakers half-open again.
    while (done.load() < kThreads) {
        clock.advance(5ms);
        std::this_thread::yield();
    }
    for (auto& thread : threads) thread.join();

    CHECK(acquired.load() + rejected.load() == long{kThreads} * kIterations);
    const BreakerState final_state = breaker.state();  // may half-open lazily: before reading the log
    const auto changes = log.changes();
    REQUIRE_FALSE(changes.empty());
    // Delivered in order: each change starts where the previous one ended, and
    // every change is a legal one.
    BreakerState current = BreakerState::closed;
    std::size_t broken_chain = 0;
    std::size_t illegal = 0;
    for (const auto& change : changes) {
        if (change.from != current) ++broken_chain;
        const bool legal = (change.from == BreakerState::closed && change.to == BreakerState::open) ||
                           (change.from == BreakerState::open && change.to == BreakerState::half_open) ||
                           (change.from == BreakerState::half_open && change.to != BreakerState::half_open);
        if (!legal) ++illegal;
        current = change.to;
    }
    CHECK(broken_chain == 0);
    CHECK(illegal == 0);
    CHECK(final_state == current);
    const auto stats = breaker.stats();
    CHECK(stats.calls <= options.window);
    CHECK(stats.probes_in_flight <= options.half_open_probes);
}

}  // namespace circuit_breaker_test
