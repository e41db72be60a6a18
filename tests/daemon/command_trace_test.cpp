// Command jobs and saga steps continue the trace: TRACEPARENT (and TRACESTATE) in their environment
// name the attempt's span.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "daemon/daemon_test_util.hpp"
#include "observe/trace_support.hpp"
#include "txflow/daemon/daemon.hpp"

namespace command_trace_test {

using namespace std::chrono_literals;
using txflow::daemon::Daemon;
using txflow::daemon::LogFormat;
using txflow::observe::Span;
using txflow::test::CollectingExporter;
using txflow::test::daemon::eventually;
using txflow::test::daemon::Log;

namespace {

constexpr const char* kPrintEnv = R"(sh", "-c", "echo \"tp=${TRACEPARENT:-none} ts=${TRACESTATE:-none}\"")";

std::unique_ptr<Daemon> traced_daemon(const std::string& text, Log& log,
                                      const std::shared_ptr<CollectingExporter>& exporter) {
    return txflow::test::daemon::make_daemon(text, log,
                                             exporter ? std::make_shared<txflow::observe::Tracer>(exporter) : nullptr);
}

std::string job_file() {
    std::string text = R"({"version": 1, "jobs": [{"name": "env", "every": "1h", "command": {"argv": [")";
    text += kPrintEnv;
    text += R"(]}}]})";
    return text;
}

}  // namespace

TEST_CASE("daemon: a command job gets TRACEPARENT naming its attempt's span", "[config][daemon][trace]") {
    Log log(LogFormat::text);
    auto exporter = std::make_shared<CollectingExporter>();
    auto d = traced_daemon(job_file(), log, exporter);
    d->start();
    REQUIRE(d->scheduler().find("env")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("[env] succeeded in"); }));
    d->stop(1s);
    const std::optional<Span> span = exporter->find("job env");
    REQUIRE(span);
    CHECK(log.contains("[env] stdout: tp=" + span->context.traceparent() + " ts=none"));
}

TEST_CASE("daemon: TRACESTATE is passed on with a parent's tracestate", "[config][daemon][trace]") {
    Log log(LogFormat::text);
    auto exporter = std::make_shared<CollectingExporter>();
    auto d = traced_daemon(job_file(), log, exporter);
    d->start();
    auto parent = txflow::observe::TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                                       "congo=t61rcWkgMzE");
    REQUIRE(parent);
    REQUIRE(d->scheduler().find("env")->trigger_now(*parent));
    REQUIRE(eventually([&] { return log.contains("[env] succeeded in"); }));
    d->stop(1s);
    const std::optional<Span> span = exporter->find("job env");
    REQUIRE(span);
    CHECK(span->context.trace_id == parent->trace_id);
    CHECK(log.contains("[env] stdout: tp=00-4bf92f3577b34da6a3ce929d0e0e4736-" + span->context.span_id_hex() +
                       "-01 ts=congo=t61rcWkgMzE"));
}

TEST_CASE("daemon: a saga step command gets its step span's TRACEPARENT", "[config][daemon][trace]") {
    Log log(LogFormat::text);
    auto exporter = std::make_shared<CollectingExporter>();
    std::string text = R"({"version": 1,
      "jobs": [{"name": "order", "every": "1h", "saga": "checkout"}],
      "sagas": [{"name": "checkout", "steps": [{"name": "reserve", "no_compensation": true,
        "command": {"argv": [")";
    text += kPrintEnv;
    text += R"(]}}]}]})";
    auto d = traced_daemon(text, log, exporter);
    d->start();
    REQUIRE(d->scheduler().find("order")->trigger_now());
    REQUIRE(eventually([&] { return exporter->find("saga checkout").has_value(); }));
    d->stop(1s);
    const std::optional<Span> step = exporter->find("step reserve");
    REQUIRE(step);
    const std::optional<Span> run = exporter->find("job order");
    const std::optional<Span> saga = exporter->find("saga checkout");
    REQUIRE(run);
    REQUIRE(saga);
    CHECK(saga->parent_span_id == run->context.span_id);  // the job's run started it: one trace
    CHECK(step->context.trace_id == run->context.trace_id);
    CHECK(log.contains("/reserve] stdout: tp=" + step->context.traceparent() + " ts=none"));
}

TEST_CASE("daemon: without tracing a command gets no TRACEPARENT of ours", "[config][daemon][trace]") {
    Log log(LogFormat::text);
    auto d = traced_daemon(job_file(), log, nullptr);
    d->start();
    REQUIRE(d->scheduler().find("env")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("[env] succeeded in"); }));
    d->stop(1s);
    CHECK((log.contains("[env] stdout: tp=none") || ::getenv("TRACEPARENT") != nullptr));
}

}  // namespace command_trace_test
