// The span exporters: OTLP/HTTP JSON posted to a receiver started by the test
// (cpp-httplib on 127.0.0.1, port 0), drop-and-count when it is down, and the
// JSON-lines file.

#include <catch2/catch.hpp>

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "txflow/observe/exporters.hpp"
#include "txflow/testing.hpp"

namespace exporter_test {

using namespace std::chrono_literals;
using nlohmann::json;
using txflow::JobContext;
using txflow::SchedulerOptions;
using txflow::observe::OtlpOptions;

namespace {

// Collects the bodies POSTed to /v1/traces.
struct Receiver {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex mutex;
    std::vector<json> bodies;
    std::vector<std::string> content_types;

    Receiver() {
        server.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
            const std::lock_guard lock(mutex);
            bodies.push_back(json::parse(req.body, nullptr, false));
            content_types.push_back(req.get_header_value("Content-Type"));
            res.set_content("{}", "application/json");
        });
        port = server.bind_to_any_port("127.0.0.1");
        // Bound already: connections wait in the backlog until listen_after_bind() accepts them.
        thread = std::thread([this] { server.listen_after_bind(); });
        // httplib's stop() does nothing before the loop runs: a receiver torn
        // down at once would leave its thread listening (and the join hanging).
        for (int i = 0; i < 500 && !server.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~Receiver() {
        server.stop();
        thread.join();
    }
    // Every span posted so far, in order.
    std::vector<json> spans() {
        const std::lock_guard lock(mutex);
        std::vector<json> out;
        for (const auto& b : bodies)
            for (const auto& rs : b["resourceSpans"])
                for (const auto& ss : rs["scopeSpans"])
                    for (const auto& s : ss["spans"]) out.push_back(s);
        return out;
    }
};

std::string attr(const json& span, const std::string& key) {
    for (const auto& a : span["attributes"])
        if (a["key"] == key) return a["value"].begin().value().get<std::string>();
    return "<missing>";
}

}  // namespace

TEST_CASE("OTLP/HTTP JSON: job spans reach a receiver with their attributes", "[observe][trace][otlp]") {
    Receiver receiver;
    OtlpOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(receiver.port);
    options.batch.service_name = "billing";
    auto exporter = txflow::observe::make_otlp_exporter(options);
    {
        txflow::testing::SchedulerFixture f(
            {.scheduler = SchedulerOptions{}.workers(1).tracer(std::make_shared<txflow::observe::Tracer>(exporter))});
        int calls = 0;
        f.setup([&](txflow::Scheduler& s) {
            s.job("invoice").every(1min).run([&](JobContext&) {
                if (++calls == 2) throw std::runtime_error("card declined");
            });
        });
        f.advance(2min);
    }
    REQUIRE(exporter->flush(10s));
    CHECK(exporter->exported() == 2);
    CHECK(exporter->dropped() == 0);
    const auto spans = receiver.spans();
    REQUIRE(spans.size() == 2);
    {
        const std::lock_guard lock(receiver.mutex);
        CHECK(receiver.content_types.front() == "application/json");
        const auto& resource = receiver.bodies.front()["resourceSpans"][0]["resource"]["attributes"][0];
        CHECK(resource["key"] == "service.name");
        CHECK(resource["value"]["stringValue"] == "billing");
    }
    CHECK(spans[0]["name"] == "job invoice");
    CHECK(spans[0]["traceId"].get<std::string>().size() == 32);
    CHECK(spans[0]["spanId"].get<std::string>().size() == 16);
    CHECK_FALSE(spans[0].contains("parentSpanId"));
    CHECK(spans[0]["kind"] == 5);  // consumer
    CHECK(spans[0]["status"]["code"] == 1);
    CHECK(attr(spans[0], "txflow.job.name") == "invoice");
    CHECK(attr(spans[0], "txflow.attempt") == "1");
    CHECK(attr(spans[0], "txflow.outcome") == "succeeded");
    CHECK(spans[1]["status"]["code"] == 2);
    CHECK(spans[1]["status"]["message"] == "card declined");
    CHECK(attr(spans[1], "txflow.error") == "card declined");
    CHECK(std::stoll(spans[1]["endTimeUnixNano"].get<std::string>()) >=
          std::stoll(spans[1]["startTimeUnixNano"].get<std::string>()));
}

TEST_CASE("OTLP/HTTP JSON: a compensated saga is one trace with parent links", "[observe][trace][otlp]") {
    Receiver receiver;
    OtlpOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(receiver.port) + "/v1/traces";  // a full URL is kept
    auto exporter = txflow::observe::make_otlp_exporter(options);
    {
        txflow::Scheduler s(SchedulerOptions{}
                                .workers(2)
                                .logger(txflow::test::quiet_logger())
                                .tracer(std::make_shared<txflow::observe::Tracer>(exporter)));
        auto saga = txflow::Saga("transfer")
                        .step(
                            "debit", [](txflow::saga::StepContext&) {}, [](txflow::saga::StepContext&) {})
                        .step(
                            "credit", [](txflow::saga::StepContext&) { throw std::runtime_error("closed account"); },
                            [](txflow::saga::StepContext&) {})
                        .build();
        s.start();
        auto parent = txflow::observe::TraceContext::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        REQUIRE(parent);
        REQUIRE(s.start_saga(saga, {}, "t-1", &*parent).wait(10s));
        s.stop(1s);
    }
    REQUIRE(exporter->flush(10s));
    const auto spans = receiver.spans();
    REQUIRE(spans.size() == 4);  // debit, credit, compensate debit, the saga
    const auto find = [&](const std::string& name) {
        for (const auto& s : spans)
            if (s["name"] == name) return s;
        FAIL("no span " << name);
        return json();
    };
    const json saga_span = find("saga transfer");
    CHECK(saga_span["parentSpanId"] == "b7ad6b7169203331");
    CHECK(saga_span["status"]["code"] == 2);
    for (const char* name : {"step debit", "step credit", "compensate debit"}) {
        const json s = find(name);
        CHECK(s["traceId"] == "0af7651916cd43dd8448eb211c80319c");
        CHECK(s["parentSpanId"] == saga_span["spanId"]);
    }
    CHECK(find("step credit")["status"]["message"] == "closed account");
    CHECK(attr(find("compensate debit"), "txflow.step.name") == "debit");
}

TEST_CASE("the JSON-lines exporter appends one span a line", "[observe][trace]") {
    txflow::test::TempDir dir{"jsonl"};
    const auto path = dir.path() / "spans.jsonl";
    {
        auto exporter = txflow::observe::make_jsonl_exporter(path, {.service_name = "nightly"});
        for (const char* name : {"a", "b"}) {
            txflow::observe::Span span;
            span.name = name;
            span.context = txflow::observe::TraceContext::new_root();
            span.attributes.push_back({"n", std::int64_t{7}});
            exporter->export_span(span);
        }
    }  // the destructor flushes
    std::ifstream in(path);
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["name"] == "a");
    CHECK(lines[1]["name"] == "b");
    CHECK(lines[0]["service"] == "nightly");
    CHECK(lines[0]["attributes"][0]["value"]["intValue"] == "7");
    CHECK_THROWS_WITH(txflow::observe::make_jsonl_exporter(dir.path() / "no" / "such" / "dir.jsonl"),
                      Catch::Contains("cannot open"));
}

TEST_CASE("OTLP/HTTP JSON: with the collector down, spans are dropped and counted, nothing blocks",
          "[observe][trace][otlp]") {
    int port = 0;
    {
        Receiver gone;  // a port that nothing listens on any more
        port = gone.port;
    }
    OtlpOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(port);
    options.timeout = 2s;
    options.batch.max_attempts = 3;
    options.batch.first_backoff = 10ms;
    options.batch.max_queue = 4;
    auto exporter = txflow::observe::make_otlp_exporter(options);
    const auto span = [] {
        txflow::observe::Span s;
        s.name = "job lost";
        s.start_unix_ns = s.end_unix_ns = txflow::observe::Span::now_unix_ns();
        return s;
    };
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) exporter->export_span(span());  // never waits: 4 queued at most
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    REQUIRE(exporter->flush(10s));  // every batch tried 3 times, then dropped
    CHECK(exporter->exported() == 0);
    CHECK(exporter->dropped() == 10);
}

}  // namespace exporter_test
