// SchedulerOptions::tracer: a span per job attempt and per saga, step and
// compensation; a given traceparent continued; the trace kept over a restart.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "observe/trace_support.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/wal_store.hpp"
#include "txflow/testing.hpp"

namespace trace_scheduler_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::observe::Span;
using txflow::observe::TraceContext;
using txflow::saga::StepContext;
using txflow::test::attribute;
using txflow::test::CollectingExporter;
using txflow::test::kParent;
using txflow::test::Traced;
using txflow::testing::FixtureOptions;
using txflow::testing::SchedulerFixture;

namespace {

template <class T>
T attr(const Span& span, std::string_view key) {
    auto v = attribute(span, key);
    REQUIRE(v);
    REQUIRE(std::holds_alternative<T>(*v));
    return std::get<T>(*v);
}

}  // namespace

TEST_CASE_METHOD(Traced, "each job attempt is a span; the job sees its context", "[observe][trace]") {
    std::string seen_in_job;
    bool current_matches = false;
    int calls = 0;
    setup([&](Scheduler& s) {
        s.job("tick").every(1min).run([&](JobContext& ctx) {
            seen_in_job = ctx.trace() != nullptr ? ctx.trace()->traceparent() : "none";
            current_matches = txflow::observe::current_trace() == ctx.trace();
            if (++calls == 2) throw std::runtime_error("second run fails");
        });
    });
    advance(2min);
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 2);
    CHECK(current_matches);
    const Span& ok = spans[0];
    const Span& failed = spans[1];
    CHECK(ok.name == "job tick");
    CHECK(ok.kind == Span::Kind::consumer);
    CHECK(ok.status == Span::Status::ok);
    CHECK(ok.parent_span_id == txflow::observe::SpanId{});
    CHECK(ok.end_unix_ns >= ok.start_unix_ns);
    CHECK(attr<std::string>(ok, "txflow.job.name") == "tick");
    CHECK(attr<std::int64_t>(ok, "txflow.attempt") == 1);
    CHECK(attr<std::string>(ok, "txflow.outcome") == "succeeded");
    CHECK(attr<std::string>(ok, "messaging.system") == "txflow");
    CHECK(failed.status == Span::Status::error);
    CHECK(failed.status_message == "second run fails");
    CHECK(attr<std::string>(failed, "txflow.outcome") == "failed");
    CHECK(attr<std::string>(failed, "txflow.error") == "second run fails");
    CHECK(failed.context.traceparent() == seen_in_job);  // the last run's context is what the job saw
    CHECK(failed.context.trace_id != ok.context.trace_id);
}

TEST_CASE("without a tracer, ctx.trace() is null and nothing is traced", "[observe][trace]") {
    SchedulerFixture f;
    bool had_trace = true;
    f.setup([&](Scheduler& s) {
        s.job("tick").every(1min).run([&](JobContext& ctx) { had_trace = ctx.trace() != nullptr; });
    });
    f.advance(1min);
    REQUIRE(f.fired("tick") == 1);
    CHECK_FALSE(had_trace);
}

TEST_CASE("a compensated saga is one trace: saga span, step and compensation children", "[observe][trace]") {
    auto exporter = std::make_shared<CollectingExporter>();
    Scheduler s(SchedulerOptions{}
                    .workers(2)
                    .logger(txflow::test::quiet_logger())
                    .tracer(std::make_shared<txflow::observe::Tracer>(exporter)));
    std::string debit_parent_seen;
    auto saga =
        Saga("transfer")
            .step(
                "debit",
                [&](StepContext& ctx) {
                    if (ctx.trace() != nullptr) debit_parent_seen = ctx.trace()->traceparent();
                },
                [](StepContext&) {})
            .step(
                "credit", [](StepContext&) { throw std::runtime_error("no such account"); }, [](StepContext&) {})
            .build();
    auto parent = TraceContext::parse(kParent);
    REQUIRE(parent);
    s.start();
    auto handle = s.start_saga(saga, {{"amount", 10}}, "order-1", &*parent);
    auto info = handle.wait(10s);
    REQUIRE(info);
    REQUIRE(info->state == txflow::saga::State::compensated);
    s.stop(1s);

    auto saga_span = exporter->find("saga transfer");
    auto debit = exporter->find("step debit");
    auto credit = exporter->find("step credit");
    auto undo_debit = exporter->find("compensate debit");
    REQUIRE(saga_span);
    REQUIRE(debit);
    REQUIRE(credit);
    REQUIRE(undo_debit);
    CHECK_FALSE(exporter->find("compensate credit"));  // a failed step is not compensated
    CHECK(saga_span->context.trace_id == parent->trace_id);
    CHECK(saga_span->parent_span_id == parent->span_id);
    CHECK(saga_span->status == Span::Status::error);
    CHECK(attr<std::string>(*saga_span, "txflow.outcome") == "compensated");
    CHECK(attr<std::string>(*saga_span, "txflow.saga.id") == "order-1");
    for (const auto* step : {&*debit, &*credit, &*undo_debit}) {
        CHECK(step->context.trace_id == parent->trace_id);
        CHECK(step->parent_span_id == saga_span->context.span_id);
    }
    CHECK(debit->context.traceparent() == debit_parent_seen);
    CHECK(credit->status == Span::Status::error);
    CHECK(attr<std::string>(*credit, "txflow.error") == "no such account");
    CHECK(attr<bool>(*undo_debit, "txflow.compensation"));
    CHECK(attr<std::string>(*undo_debit, "txflow.step.name") == "debit");
}

TEST_CASE("a saga recovered from the WAL continues the trace it was started with", "[observe][trace][wal]") {
    txflow::test::TempDir dir{"trace-wal"};
    const auto open = [&] {
        auto wal = txflow::store::WalStore::open({.dir = dir.path(), .durability = txflow::store::Durability::none()});
        REQUIRE(wal);
        return std::shared_ptr<txflow::store::WalStore>(std::move(*wal));
    };
    auto saga = Saga("ship").step("pack", [](StepContext&) {}).no_compensation().build();
    auto parent = TraceContext::parse(kParent);
    REQUIRE(parent);
    {
        // Recorded, never started: the saga waits in the WAL.
        Scheduler first(SchedulerOptions{}.workers(1).logger(txflow::test::quiet_logger()).store(open()));
        first.start_saga(saga, {}, "ship-1", &*parent);
    }
    auto exporter = std::make_shared<CollectingExporter>();
    Scheduler second(SchedulerOptions{}
                         .workers(1)
                         .logger(txflow::test::quiet_logger())
                         .store(open())
                         .tracer(std::make_shared<txflow::observe::Tracer>(exporter)));
    second.register_saga(saga);
    second.start();
    auto info = second.saga("ship-1");
    REQUIRE(info);
    // The same key: the recovered instance, not a new one.
    auto handle = second.start_saga(saga, {}, "ship-1");
    CHECK_FALSE(handle.created());
    REQUIRE(handle.wait(10s));
    second.stop(1s);
    auto saga_span = exporter->find("saga ship");
    auto pack = exporter->find("step pack");
    REQUIRE(saga_span);
    REQUIRE(pack);
    CHECK(saga_span->context.trace_id == parent->trace_id);
    CHECK(saga_span->parent_span_id == parent->span_id);
    CHECK(pack->parent_span_id == saga_span->context.span_id);
}

}  // namespace trace_scheduler_test
