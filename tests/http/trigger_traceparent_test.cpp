// POST /api/v1/jobs/{name}/trigger with a `traceparent` header: the run continues the caller's
// trace; an invalid header is ignored (a new trace), never refused.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "observe/trace_support.hpp"
#include "support/test_support.hpp"
#include "txflow/http/dashboard.hpp"
#include "txflow/http/server.hpp"
#include "txflow/scheduler.hpp"

namespace trigger_traceparent_test {

using namespace std::chrono_literals;
using txflow::observe::SpanId;
using txflow::test::CollectingExporter;

namespace {

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct TracedDashboard {
    std::shared_ptr<CollectingExporter> exporter = std::make_shared<CollectingExporter>();
    std::shared_ptr<txflow::http::RunHistory> history = std::make_shared<txflow::http::RunHistory>(20);
    txflow::Scheduler sched{txflow::SchedulerOptions{}
                                .workers(2)
                                .logger(txflow::test::quiet_logger("dash"))
                                .tracer(std::make_shared<txflow::observe::Tracer>(exporter))};
    std::unique_ptr<txflow::http::Server> server;
    std::unique_ptr<txflow::http::Dashboard> dashboard;

    TracedDashboard() {
        sched.job("beta").every(1h).run([](txflow::JobContext&) {});
        txflow::http::ServerOptions listen;
        listen.port = 0;
        server = std::make_unique<txflow::http::Server>(listen);
        dashboard = std::make_unique<txflow::http::Dashboard>(sched, history, txflow::http::DashboardOptions{});
        dashboard->mount(*server);
        if (!server->start()) throw std::runtime_error("cannot start the dashboard server");
        sched.start();
    }
    ~TracedDashboard() {
        server->stop();
        (void)sched.stop(1s);
    }
    int trigger(const std::string& traceparent) {
        httplib::Client c("127.0.0.1", server->port());
        c.set_read_timeout(5);
        httplib::Headers headers{{"X-CSRF-Token", dashboard->csrf_token()}, {"traceparent", traceparent}};
        auto r = c.Post("/api/v1/jobs/beta/trigger", headers, "", "application/json");
        return r ? r->status : -1;
    }
    bool spans(std::size_t n) {
        return txflow::test::eventually([&] { return exporter->spans().size() >= n; }, 5s, 5ms);
    }
};

}  // namespace

TEST_CASE("HTTP trigger: a traceparent header makes the run a child span of the caller", "[http][trace]") {
    TracedDashboard d;
    REQUIRE(d.trigger(kParent) == 200);
    REQUIRE(d.spans(1));
    const auto span = d.exporter->spans().at(0);
    CHECK(span.context.trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(txflow::observe::to_hex(span.parent_span_id.data(), span.parent_span_id.size()) == "00f067aa0ba902b7");
}

TEST_CASE("HTTP trigger: an invalid traceparent is ignored: the run starts a new trace", "[http][trace]") {
    TracedDashboard d;
    REQUIRE(d.trigger("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01") == 200);
    REQUIRE(d.spans(1));
    const auto span = d.exporter->spans().at(0);
    CHECK(span.context.trace_id_hex() != "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(span.parent_span_id == SpanId{});
}

}  // namespace trigger_traceparent_test
