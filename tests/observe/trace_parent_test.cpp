// A run's place in a trace: a parent traceparent given to the job (JobBuilder::trace_parent) or to
// one trigger (JobHandle::trigger_now(parent)); retries are separate spans of the run's trace.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "observe/trace_support.hpp"
#include "txflow/policy/retry.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace trace_parent_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::observe::Span;
using txflow::observe::SpanId;
using txflow::observe::TraceContext;
using txflow::test::attribute;
using txflow::test::CollectingExporter;
using txflow::test::kParent;
using txflow::test::Traced;
using txflow::testing::FixtureOptions;
using txflow::testing::SchedulerFixture;

namespace {

std::int64_t attempt_of(const Span& span) {
    auto v = attribute(span, "txflow.attempt");
    return v && std::holds_alternative<std::int64_t>(*v) ? std::get<std::int64_t>(*v) : -1;
}

TraceContext parent_context() {
    auto parent = TraceContext::parse(kParent, "vendor=1");
    if (!parent) throw std::logic_error(parent.error());
    return *parent;
}

}  // namespace

TEST_CASE_METHOD(Traced, "retries of one run are separate spans of one trace", "[observe][trace]") {
    int calls = 0;
    setup([&](Scheduler& s) {
        s.job("flaky").after(1s).retry(txflow::retry::fixed(1s).attempts(3)).run([&](JobContext&) {
            if (++calls < 3) throw std::runtime_error("not yet");
        });
    });
    advance(10s);
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 3);
    const Span& first = spans[0];
    CHECK(attempt_of(first) == 1);
    CHECK(first.parent_span_id == SpanId{});  // the run's root
    CHECK(first.status == Span::Status::error);
    for (std::size_t i = 1; i < spans.size(); ++i) {
        INFO("attempt " << i + 1);
        CHECK(attempt_of(spans[i]) == static_cast<std::int64_t>(i + 1));
        CHECK(spans[i].context.trace_id == first.context.trace_id);
        CHECK(spans[i].parent_span_id == first.context.span_id);
        CHECK(spans[i].context.span_id != first.context.span_id);
    }
    CHECK(spans[1].context.span_id != spans[2].context.span_id);
    CHECK(spans[2].status == Span::Status::ok);
}

TEST_CASE_METHOD(Traced, "separate runs of a job are separate traces", "[observe][trace]") {
    setup([&](Scheduler& s) { s.job("tick").every(1min).run([](JobContext&) {}); });
    advance(2min);
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 2);
    CHECK(spans[0].context.trace_id != spans[1].context.trace_id);
}

TEST_CASE_METHOD(Traced, "JobBuilder::trace_parent: every run and retry continues the given trace",
                 "[observe][trace]") {
    const TraceContext parent = parent_context();
    std::string seen;
    int calls = 0;
    setup([&](Scheduler& s) {
        s.job("child")
            .every(1min)
            .trace_parent(kParent, "vendor=1")
            .retry(txflow::retry::fixed(1s).attempts(2))
            .run([&](JobContext& ctx) {
                seen = ctx.trace()->traceparent();
                if (++calls == 1) throw std::runtime_error("first attempt fails");
            });
    });
    advance(2min);
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 3);  // run 1 (failed, retried), run 2
    for (const Span& span : spans) {
        CHECK(span.context.trace_id == parent.trace_id);
        CHECK(span.parent_span_id == parent.span_id);  // attempts are siblings under the parent
        CHECK(span.context.tracestate == "vendor=1");
    }
    CHECK(spans[0].context.span_id != spans[1].context.span_id);
    CHECK(attempt_of(spans[1]) == 2);
    CHECK(seen == spans[2].context.traceparent());
}

TEST_CASE("JobBuilder::trace_parent: an invalid traceparent is refused at run(), saying why", "[observe][trace]") {
    SchedulerFixture f;
    f.setup([](Scheduler& s) {
        CHECK_THROWS_WITH(s.job("bad").every(1min).trace_parent("00-abc-01").run([](JobContext&) {}),
                          Catch::Contains("job 'bad'") && Catch::Contains("traceparent"));
        CHECK_THROWS_AS(s.job("zeros")
                            .every(1min)
                            .trace_parent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
                            .run([](JobContext&) {}),
                        txflow::ScheduleError);
        CHECK_FALSE(s.find("bad"));
    });
}

TEST_CASE_METHOD(Traced, "trigger_now(parent): that run is a child of the parent, the next is not",
                 "[observe][trace]") {
    const TraceContext parent = parent_context();
    setup([&](Scheduler& s) { s.job("manual").every(1h).run([](JobContext&) {}); });
    start();
    auto handle = scheduler().find("manual");
    REQUIRE(handle);
    REQUIRE(handle->trigger_now(parent));
    scheduler().wait_idle();
    REQUIRE(handle->trigger_now());
    scheduler().wait_idle();
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 2);
    CHECK(spans[0].context.trace_id == parent.trace_id);
    CHECK(spans[0].parent_span_id == parent.span_id);
    CHECK(spans[1].context.trace_id != parent.trace_id);
    CHECK(spans[1].parent_span_id == SpanId{});
}

TEST_CASE("a retry re-armed after a restart continues the run's trace", "[observe][trace]") {
    auto exporter = std::make_shared<CollectingExporter>();
    SchedulerFixture f(FixtureOptions{
        .store = txflow::testing::StoreKind::wal,
        .scheduler = SchedulerOptions{}.workers(2).tracer(std::make_shared<txflow::observe::Tracer>(exporter))});
    const auto due = f.now() + 1s;
    int calls = 0;
    f.setup([&](Scheduler& s) {
        s.job("flaky").at(due).retry(txflow::retry::fixed(1min).attempts(3)).run([&](JobContext&) {
            if (++calls == 1) throw std::runtime_error("the first attempt fails");
        });
    });
    f.advance(2s);
    REQUIRE(exporter->spans().size() == 1);  // attempt 1 failed; attempt 2 waits a minute
    f.restart();                             // the WAL is reopened: the retry comes back from it
    f.advance(2min);
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 2);
    CHECK(attempt_of(spans[1]) == 2);
    CHECK(spans[1].context.trace_id == spans[0].context.trace_id);
    CHECK(spans[1].parent_span_id == spans[0].context.span_id);
    CHECK(calls == 2);
}

}  // namespace trace_parent_test
