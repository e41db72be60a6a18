// The policy wrappers called directly, with a standalone JobContext on a
// ManualClock: what each policy requests from the scheduler (retry_after,
// dead_letter, set_deadline, report_failure/report_skipped) or throws, alone
// and composed in different orders.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "txflow/core/clock.hpp"
#include "txflow/policy/policy.hpp"

namespace wrappers_test {

using namespace std::chrono_literals;
using txflow::CircuitOpenError;
using txflow::JobContext;
using txflow::JobFunction;
using txflow::ManualClock;
using txflow::SkipRun;
using txflow::TimeoutError;
using txflow::policies::chain;
using txflow::policies::TimeoutScope;
namespace policies = txflow::policies;

// ---- test-only access to JobContext's per-attempt fields -------------------
// Only the Scheduler may set attempt()/attempt_started() (friend), and a
// standalone context always is attempt 1 starting now. To test attempt 3 of a
// run that started long ago without a scheduler, take the member pointers
// through an explicit instantiation (where access checks do not apply,
// [temp.spec.general]/6). Test code only; a public testing hook on JobContext
// would replace this.
namespace {
struct AttemptField {
    using type = std::uint32_t JobContext::*;
    static inline type member = nullptr;
};
struct AttemptStartedField {
    using type = txflow::SteadyTime JobContext::*;
    static inline type member = nullptr;
};
struct RunStartedField {
    using type = txflow::SteadyTime JobContext::*;
    static inline type member = nullptr;
};
template <typename Field, typename Field::type Member>
struct Grant {
    static const bool done;
};
template <typename Field, typename Field::type Member>
const bool Grant<Field, Member>::done = (Field::member = Member, true);
template struct Grant<AttemptField, &JobContext::attempt_>;
template struct Grant<AttemptStartedField, &JobContext::attempt_started_>;
template struct Grant<RunStartedField, &JobContext::run_started_>;
}  // namespace

namespace {

// Makes `ctx` look like attempt `n` that started at `attempt_started`, of a run
// that started at `run_started`.
void set_attempt(JobContext& ctx, std::uint32_t n, txflow::SteadyTime run_started, txflow::SteadyTime attempt_started) {
    ctx.*AttemptField::member = n;
    ctx.*RunStartedField::member = run_started;
    ctx.*AttemptStartedField::member = attempt_started;
}

struct Fixture {
    ManualClock clock{txflow::WallTime{}};
    std::stop_source stop;
    JobContext ctx{"job", txflow::WallTime{}, stop.get_token(), 1, clock};
    int calls = 0;

    JobFunction throwing(std::string what = "boom") {
        return [this, what](JobContext&) {
            ++calls;
            throw std::runtime_error(what);
        };
    }
    JobFunction ok() {
        return [this](JobContext&) { ++calls; };
    }
    JobFunction taking(std::chrono::milliseconds d) {
        return [this, d](JobContext&) {
            ++calls;
            clock.advance(d);
        };
    }
};

txflow::retry::Policy three_fixed() {
    return txflow::retry::fixed(100ms).attempts(3);
}

}  // namespace

// ---------------------------------------------------------------- recover

TEST_CASE("recover reports an exception as a failure without rethrowing", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing("disk full"), {policies::recover()});
    REQUIRE_NOTHROW(job(f.ctx));
    CHECK(f.ctx.failure_reported() == std::optional<std::string>("disk full"));
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK_FALSE(f.ctx.dead_letter_requested());
}

TEST_CASE("recover reports a non-std exception as 'unknown exception'", "[policy][wrappers]") {
    Fixture f;
    auto job = chain([](JobContext&) { throw 42; }, {policies::recover()});
    REQUIRE_NOTHROW(job(f.ctx));
    CHECK(f.ctx.failure_reported() == std::optional<std::string>("unknown exception"));
}

TEST_CASE("recover lets SkipRun through and converts TimeoutError", "[policy][wrappers]") {
    Fixture f;
    auto skip = chain([](JobContext&) { throw SkipRun("rate limited"); }, {policies::recover()});
    CHECK_THROWS_AS(skip(f.ctx), SkipRun);
    CHECK_FALSE(f.ctx.failure_reported());

    auto timeout = chain([](JobContext&) { throw TimeoutError("timed out after 5s"); }, {policies::recover()});
    REQUIRE_NOTHROW(timeout(f.ctx));
    CHECK(f.ctx.failure_reported() == std::optional<std::string>("timed out after 5s"));
}

TEST_CASE("recover leaves a successful run alone", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.ok(), {policies::recover()});
    job(f.ctx);
    CHECK(f.calls == 1);
    CHECK_FALSE(f.ctx.failure_reported());
}

// ---------------------------------------------------------------- retry

TEST_CASE("retry requests the policy's delay and rethrows on a retryable failure", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::retry(three_fixed())});
    CHECK_THROWS_WITH(job(f.ctx), "boom");
    CHECK(f.ctx.retry_requested() == std::optional<std::chrono::milliseconds>(100ms));
    CHECK_FALSE(f.ctx.dead_letter_requested());
}

TEST_CASE("retry follows the backoff with the attempt number", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::retry(txflow::retry::exponential(100ms, 2.0, 1s).attempts(5))});
    set_attempt(f.ctx, 3, f.ctx.run_started(), f.ctx.run_started());
    CHECK_THROWS(job(f.ctx));
    CHECK(f.ctx.retry_requested() == std::optional<std::chrono::milliseconds>(400ms));
}

TEST_CASE("retry dead-letters when attempts are exhausted", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing("still down"), {policies::retry(three_fixed())});
    set_attempt(f.ctx, 3, f.ctx.run_started(), f.ctx.run_started());
    CHECK_THROWS_WITH(job(f.ctx), "still down");
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK(f.ctx.dead_letter_requested() == std::optional<std::string>("still down"));
}

TEST_CASE("retry dead-letters a non-retryable failure at once", "[policy][wrappers]") {
    Fixture f;
    auto policy = three_fixed().retry_if([](const std::exception_ptr& ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const std::invalid_argument&) {
            return false;
        } catch (...) {
            return true;
        }
    });
    auto job = chain([](JobContext&) { throw std::invalid_argument("bad input"); }, {policies::retry(policy)});
    CHECK_THROWS_AS(job(f.ctx), std::invalid_argument);
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK(f.ctx.dead_letter_requested() == std::optional<std::string>("bad input"));
}

TEST_CASE("retry gives up once max_elapsed would be exceeded", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::retry(three_fixed().max_elapsed(1s))});
    f.clock.advance(950ms);  // elapsed 950ms + 100ms delay > 1s
    CHECK_THROWS(job(f.ctx));
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK(f.ctx.dead_letter_requested());
}

TEST_CASE("retry ignores success, SkipRun and reported failures", "[policy][wrappers]") {
    Fixture f;
    auto ok = chain(f.ok(), {policies::retry(three_fixed())});
    ok(f.ctx);
    CHECK_FALSE(f.ctx.retry_requested());

    auto skip = chain([](JobContext&) { throw SkipRun("busy"); }, {policies::retry(three_fixed())});
    CHECK_THROWS_AS(skip(f.ctx), SkipRun);
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK_FALSE(f.ctx.dead_letter_requested());

    // report_failure() is final: the job chose not to throw.
    auto reported = chain([](JobContext& ctx) { ctx.report_failure("soft"); }, {policies::retry(three_fixed())});
    reported(f.ctx);
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK_FALSE(f.ctx.dead_letter_requested());
}

TEST_CASE("retry jitter is deterministic for a seed and within bounds", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::retry(txflow::retry::fixed(1s).attempts(3).jitter_full())});
    CHECK_THROWS(job(f.ctx));
    REQUIRE(f.ctx.retry_requested());
    CHECK(*f.ctx.retry_requested() <= 1s);

    Fixture g;
    CHECK_THROWS(job(g.ctx));
    CHECK(g.ctx.retry_requested() == f.ctx.retry_requested());
}

// ---------------------------------------------------------------- timeout

TEST_CASE("timeout sets the attempt deadline and passes a quick job", "[policy][wrappers]") {
    Fixture f;
    const auto start = f.ctx.attempt_started();
    auto job = chain(f.taking(4s), {policies::timeout(5s)});
    job(f.ctx);
    CHECK(f.calls == 1);
    CHECK(f.ctx.deadline() == std::optional<txflow::SteadyTime>(start + 5s));
}

TEST_CASE("timeout throws TimeoutError naming the limit when the attempt ends late", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.taking(6s), {policies::timeout(5s)});
    CHECK_THROWS_MATCHES(job(f.ctx), TimeoutError, Catch::Message("timed out after 5s"));
    CHECK(f.calls == 1);
}

TEST_CASE("timeout turns a failure after the deadline into TimeoutError", "[policy][wrappers]") {
    Fixture f;
    // A cooperative job: sees the stop request at the deadline and bails out.
    auto job = chain(
        [&f](JobContext&) {
            f.clock.advance(1500ms);
            throw std::runtime_error("operation cancelled");
        },
        {policies::timeout(1500ms)});
    CHECK_THROWS_MATCHES(job(f.ctx), TimeoutError, Catch::Message("timed out after 1s500ms"));

    Fixture g;  // before the deadline the job's own error stands
    auto early = chain(g.throwing("early"), {policies::timeout(5s)});
    CHECK_THROWS_MATCHES(early(g.ctx), std::runtime_error, Catch::Message("early"));
}

TEST_CASE("timeout fails at once, without running the job, past its deadline", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.ok(), {policies::timeout(5s)});
    f.clock.advance(5s);
    CHECK_THROWS_AS(job(f.ctx), TimeoutError);
    CHECK(f.calls == 0);
}

TEST_CASE("timeout rejects a non-positive limit", "[policy][wrappers]") {
    CHECK_THROWS_AS(policies::timeout(0ms), std::invalid_argument);
    CHECK_THROWS_AS(policies::timeout(-1ms), std::invalid_argument);
}

// ------------------------------------------------------------ overlap

TEST_CASE("skip_if_running skips a fire while the previous run is in progress", "[policy][wrappers]") {
    ManualClock clock{txflow::WallTime{}};
    std::latch entered(1);
    std::latch release(1);
    std::atomic<int> calls{0};
    auto job = chain(
        [&](JobContext&) {
            if (calls.fetch_add(1) == 0) {
                entered.count_down();
                release.wait();
            }
        },
        {policies::skip_if_running()});

    std::thread first([&] {
        JobContext ctx{"job", txflow::WallTime{}, {}, 1, clock};
        job(ctx);
    });
    entered.wait();
    JobContext second{"job", txflow::WallTime{}, {}, 2, clock};
    CHECK_THROWS_MATCHES(job(second), SkipRun, Catch::Message("previous run still running"));
    release.count_down();
    first.join();
    CHECK(calls == 1);

    JobContext third{"job", txflow::WallTime{}, {}, 3, clock};
    job(third);  // the flag was released
    CHECK(calls == 2);
}

TEST_CASE("skip_if_running releases its flag when the job throws", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::skip_if_running()});
    CHECK_THROWS_WITH(job(f.ctx), "boom");
    CHECK_THROWS_WITH(job(f.ctx), "boom");
    CHECK(f.calls == 2);
}

TEST_CASE("skip_if_running state is per wrapped job", "[policy][wrappers]") {
    ManualClock clock{txflow::WallTime{}};
    std::latch entered(1);
    std::latch release(1);
    const txflow::Wrapper skip = policies::skip_if_running();
    auto a = skip([&](JobContext&) {
        entered.count_down();
        release.wait();
    });
    int b_calls = 0;
    auto b = skip([&](JobContext&) { ++b_calls; });
    std::thread t([&] {
        JobContext ctx{"a", txflow::WallTime{}, {}, 1, clock};
        a(ctx);
    });
    entered.wait();
    JobContext ctx{"b", txflow::WallTime{}, {}, 1, clock};
    b(ctx);  // a's run does not block b
    release.count_down();
    t.join();
    CHECK(b_calls == 1);
}

TEST_CASE("delay_if_running runs exactly once more after the current run", "[policy][wrappers]") {
    ManualClock clock{txflow::WallTime{}};
    std::latch entered(1);
    std::latch release(1);
    std::atomic<int> calls{0};
    auto job = chain(
        [&](JobContext&) {
            if (calls.fetch_add(1) == 0) {
                entered.count_down();
                release.wait();
            }
        },
        {policies::delay_if_running()});

    std::thread first([&] {
        JobContext ctx{"job", txflow::WallTime{}, {}, 1, clock};
        job(ctx);
        CHECK_FALSE(ctx.skip_reported());
    });
    entered.wait();
    for (std::uint64_t run = 2; run <= 4; ++run) {  // three fires while busy: one delayed run
        JobContext ctx{"job", txflow::WallTime{}, {}, run, clock};
        REQUIRE_NOTHROW(job(ctx));
        CHECK(ctx.skip_reported() == std::optional<std::string>("delayed: previous run still running"));
    }
    CHECK(calls == 1);
    release.count_down();
    first.join();
    CHECK(calls == 2);

    JobContext later{"job", txflow::WallTime{}, {}, 5, clock};
    job(later);
    CHECK(calls == 3);  // idle again: runs once, no leftover pending
    CHECK_FALSE(later.skip_reported());
}

TEST_CASE("delay_if_running still runs the delayed fire after a throw, then rethrows", "[policy][wrappers]") {
    ManualClock clock{txflow::WallTime{}};
    std::latch entered(1);
    std::latch release(1);
    std::atomic<int> calls{0};
    auto job = chain(
        [&](JobContext&) {
            if (calls.fetch_add(1) == 0) {
                entered.count_down();
                release.wait();
                throw std::runtime_error("first failed");
            }
        },
        {policies::delay_if_running()});
    std::thread first([&] {
        JobContext ctx{"job", txflow::WallTime{}, {}, 1, clock};
        CHECK_THROWS_WITH(job(ctx), "first failed");
    });
    entered.wait();
    JobContext ctx{"job", txflow::WallTime{}, {}, 2, clock};
    job(ctx);
    release.count_down();
    first.join();
    CHECK(calls == 2);
}

// ------------------------------------------------------------ circuit breaker

namespace {
txflow::BreakerOptions four_call_window() {
    txflow::BreakerOptions options;
    options.window = 4;
    options.min_calls = 4;
    options.failure_rate = 0.5;
    options.open_for = 1s;
    options.half_open_probes = 1;
    return options;
}
}  // namespace

TEST_CASE("circuit_breaker opens after failures, then fails fast", "[policy][wrappers]") {
    Fixture f;
    auto breaker = std::make_shared<txflow::CircuitBreaker>("db", four_call_window(), f.clock);
    auto job = chain(f.throwing(), {policies::circuit_breaker(breaker)});
    for (int i = 0; i < 4; ++i) CHECK_THROWS_WITH(job(f.ctx), "boom");
    CHECK(breaker->state() == txflow::BreakerState::open);

    CHECK_THROWS_MATCHES(job(f.ctx), CircuitOpenError, Catch::Message("circuit 'db' is open"));
    CHECK(f.calls == 4);  // not called while open

    // After open_for: one probe goes through; a success closes the breaker.
    f.clock.advance(1s);
    auto healthy = chain(f.ok(), {policies::circuit_breaker(breaker)});
    healthy(f.ctx);
    CHECK(f.calls == 5);
    CHECK(breaker->state() == txflow::BreakerState::closed);
}

TEST_CASE("circuit_breaker runs the fallback while open", "[policy][wrappers]") {
    Fixture f;
    auto breaker = std::make_shared<txflow::CircuitBreaker>("api", four_call_window(), f.clock);
    int fallback_calls = 0;
    auto job = chain(f.throwing(), {policies::circuit_breaker(breaker, [&](JobContext& ctx) {
                         ++fallback_calls;
                         ctx.report_skipped("served from cache");
                     })});
    for (int i = 0; i < 4; ++i) CHECK_THROWS(job(f.ctx));
    CHECK(fallback_calls == 0);
    REQUIRE_NOTHROW(job(f.ctx));
    CHECK(fallback_calls == 1);
    CHECK(f.calls == 4);
    CHECK(f.ctx.skip_reported() == std::optional<std::string>("served from cache"));
}

TEST_CASE("circuit_breaker counts reported failures and measures latency on the context clock", "[policy][wrappers]") {
    Fixture f;
    auto options = four_call_window();
    options.failure_rate = 1.0;
    options.slow_call = 100ms;
    options.slow_percentile = 0.5;
    auto breaker = std::make_shared<txflow::CircuitBreaker>("svc", options, f.clock);
    auto slow = chain(f.taking(200ms), {policies::circuit_breaker(breaker)});
    for (int i = 0; i < 4; ++i) slow(f.ctx);  // all succeed, all slow
    CHECK(breaker->state() == txflow::BreakerState::open);

    Fixture g;
    auto breaker2 = std::make_shared<txflow::CircuitBreaker>("svc2", four_call_window(), g.clock);
    for (int i = 0; i < 4; ++i) {
        JobContext ctx{"job", txflow::WallTime{}, {}, 1, g.clock};
        auto soft = chain([](JobContext& c) { c.report_failure("soft"); }, {policies::circuit_breaker(breaker2)});
        soft(ctx);
    }
    CHECK(breaker2->state() == txflow::BreakerState::open);
}

TEST_CASE("circuit_breaker reports a skip from inside as a success", "[policy][wrappers]") {
    Fixture f;
    auto breaker = std::make_shared<txflow::CircuitBreaker>("db", four_call_window(), f.clock);
    auto skip = chain([](JobContext&) { throw SkipRun("busy"); }, {policies::circuit_breaker(breaker)});
    CHECK_THROWS_AS(skip(f.ctx), SkipRun);
    const auto stats = breaker->stats();
    CHECK(stats.calls == 1);
    CHECK(stats.failures == 0);
}

// ---------------------------------------------------------------- rate limit

TEST_CASE("rate_limit skips a fire when the bucket is empty", "[policy][wrappers]") {
    Fixture f;
    auto bucket = std::make_shared<txflow::TokenBucket>(1.0, 2.0, f.clock);
    auto job = chain(f.ok(), {policies::rate_limit(bucket)});
    job(f.ctx);
    job(f.ctx);
    CHECK_THROWS_MATCHES(job(f.ctx), SkipRun, Catch::Message("rate limited"));
    CHECK(f.calls == 2);
    f.clock.advance(1s);
    job(f.ctx);
    CHECK(f.calls == 3);
}

// ---------------------------------------------------------------- composition

TEST_CASE("chain applies the first wrapper outermost", "[policy][wrappers]") {
    std::vector<std::string> trace;
    auto tag = [&trace](std::string name) -> txflow::Wrapper {
        return [&trace, name](JobFunction next) -> JobFunction {
            return [&trace, name, next](JobContext& ctx) {
                trace.push_back(name + "+");
                next(ctx);
                trace.push_back(name + "-");
            };
        };
    };
    Fixture f;
    auto job = chain([&trace](JobContext&) { trace.emplace_back("job"); }, {tag("a"), tag("b"), tag("c")});
    job(f.ctx);
    CHECK(trace == std::vector<std::string>{"a+", "b+", "c+", "job", "c-", "b-", "a-"});
    CHECK(chain(f.ok(), {}) != nullptr);
}

TEST_CASE("chain and factories reject empty functions", "[policy][wrappers]") {
    CHECK_THROWS_AS(chain(JobFunction{}, {}), std::invalid_argument);
    CHECK_THROWS_AS(chain([](JobContext&) {}, {txflow::Wrapper{}}), std::invalid_argument);
    CHECK_THROWS_AS(policies::circuit_breaker(nullptr), std::invalid_argument);
    CHECK_THROWS_AS(policies::rate_limit(nullptr), std::invalid_argument);
    CHECK_THROWS_AS(policies::recover()(JobFunction{}), std::invalid_argument);
}

TEST_CASE("recover inside retry hides the failure: nothing is retried", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::retry(three_fixed()), policies::recover()});
    REQUIRE_NOTHROW(job(f.ctx));
    CHECK(f.ctx.failure_reported() == std::optional<std::string>("boom"));
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK_FALSE(f.ctx.dead_letter_requested());
}

TEST_CASE("recover outside retry: the retry is requested, then the failure is reported", "[policy][wrappers]") {
    Fixture f;
    auto job = chain(f.throwing(), {policies::recover(), policies::retry(three_fixed())});
    REQUIRE_NOTHROW(job(f.ctx));
    CHECK(f.ctx.retry_requested() == std::optional<std::chrono::milliseconds>(100ms));
    CHECK(f.ctx.failure_reported() == std::optional<std::string>("boom"));

    Fixture g;  // and on the last attempt, dead-lettered and reported
    auto last = chain(g.throwing(), {policies::recover(), policies::retry(three_fixed())});
    set_attempt(g.ctx, 3, g.ctx.run_started(), g.ctx.run_started());
    REQUIRE_NOTHROW(last(g.ctx));
    CHECK(g.ctx.dead_letter_requested() == std::optional<std::string>("boom"));
    CHECK(g.ctx.failure_reported() == std::optional<std::string>("boom"));
}

TEST_CASE("run-scoped timeout outside retry: a late attempt of an old run fails at once", "[policy][wrappers]") {
    Fixture f;
    const auto run_start = f.ctx.run_started();
    f.clock.advance(10s);
    // Attempt 3, started just now, of a run that started 10s ago.
    set_attempt(f.ctx, 3, run_start, f.clock.steady_now());
    auto job = chain(f.ok(), {policies::timeout(5s, TimeoutScope::run), policies::retry(three_fixed())});
    CHECK_THROWS_MATCHES(job(f.ctx), TimeoutError, Catch::Message("run timed out after 5s"));
    CHECK(f.calls == 0);
    CHECK_FALSE(f.ctx.retry_requested());

    // Attempt-scoped inside retry: the same attempt has its full 5s.
    Fixture g;
    const auto run_start_g = g.ctx.run_started();
    g.clock.advance(10s);
    set_attempt(g.ctx, 3, run_start_g, g.clock.steady_now());
    auto inner = chain(g.ok(), {policies::retry(three_fixed()), policies::timeout(5s)});
    inner(g.ctx);
    CHECK(g.calls == 1);
    CHECK(g.ctx.deadline() == std::optional<txflow::SteadyTime>(g.clock.steady_now() + 5s));
}

TEST_CASE("timeout inside retry is retried; outside retry it is not", "[policy][wrappers]") {
    Fixture f;  // inside: retry sees the TimeoutError
    auto inner = chain(f.taking(6s), {policies::retry(three_fixed()), policies::timeout(5s)});
    CHECK_THROWS_AS(inner(f.ctx), TimeoutError);
    CHECK(f.ctx.retry_requested() == std::optional<std::chrono::milliseconds>(100ms));

    Fixture g;  // outside: retry saw a success; the attempt ends timed out, no retry
    auto outer = chain(g.taking(6s), {policies::timeout(5s), policies::retry(three_fixed())});
    CHECK_THROWS_AS(outer(g.ctx), TimeoutError);
    CHECK_FALSE(g.ctx.retry_requested());
    CHECK_FALSE(g.ctx.dead_letter_requested());
}

TEST_CASE("rate_limit inside retry: a limited fire is skipped, never retried", "[policy][wrappers]") {
    Fixture f;
    auto bucket = std::make_shared<txflow::TokenBucket>(1.0, 1.0, f.clock);
    auto job = chain(f.ok(), {policies::retry(three_fixed()), policies::rate_limit(bucket)});
    job(f.ctx);
    CHECK_THROWS_AS(job(f.ctx), SkipRun);
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK_FALSE(f.ctx.dead_letter_requested());
}

TEST_CASE("the full chain on a healthy job runs it once and requests nothing", "[policy][wrappers]") {
    Fixture f;
    auto breaker = std::make_shared<txflow::CircuitBreaker>("db", txflow::BreakerOptions{}, f.clock);
    auto bucket = std::make_shared<txflow::TokenBucket>(1e9, 1e9, f.clock);
    auto job =
        chain(f.ok(), {policies::recover(), policies::timeout(5s), policies::retry(three_fixed()),
                       policies::skip_if_running(), policies::circuit_breaker(breaker), policies::rate_limit(bucket)});
    job(f.ctx);
    CHECK(f.calls == 1);
    CHECK_FALSE(f.ctx.retry_requested());
    CHECK_FALSE(f.ctx.dead_letter_requested());
    CHECK_FALSE(f.ctx.failure_reported());
    CHECK_FALSE(f.ctx.skip_reported());
    CHECK(breaker->stats().calls == 1);
}

}  // namespace wrappers_test
