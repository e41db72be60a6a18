// The dashboard over each job's own zone and next fires, cancelling one run
// (running or queued), trace ids in the run history, and atomic transactions.

#include <catch2/catch.hpp>

#include <atomic>
#include <stop_token>

#include "dashboard_fixture.hpp"
#include "observe/trace_support.hpp"
#include "txflow/core/clock.hpp"

namespace dashboard_control_test {

using namespace std::chrono_literals;
using nlohmann::json;
using txflow::test::body_of;
using txflow::test::DashboardServer;
using txflow::test::eventually;
using txflow::test::wall;

namespace {

std::int64_t ms(txflow::WallTime t) {
    return t.time_since_epoch().count();
}

// A running run's fire time, from the history (the API's id for the run).
std::optional<std::int64_t> running_fire(const txflow::http::RunHistory& history, std::string_view job) {
    for (const auto& run : history.runs(job))
        if (run.outcome == txflow::Outcome::none) return ms(run.fire_time);
    return std::nullopt;
}

// A dashboard over a test's own scheduler on 127.0.0.1:0 (the dashboard
// first: the server calls it until it stops).
struct Served {
    txflow::http::Dashboard dashboard;
    txflow::http::Server server{{.host = "127.0.0.1", .port = 0}};
    Served(txflow::Scheduler& sched, std::shared_ptr<txflow::http::RunHistory> history)
        : dashboard(sched, std::move(history)) {
        dashboard.mount(server);
        if (!server.start()) throw std::runtime_error("cannot start the dashboard server");
    }
    [[nodiscard]] httplib::Client client() const { return httplib::Client("127.0.0.1", server.port()); }
};

}  // namespace

TEST_CASE("two cron jobs in different zones: JobInfo::zone and next_fires from each job's own schedule",
          "[http][dashboard][zone]") {
    txflow::ManualClock clock(wall("2026-12-07T00:00:00Z"));
    auto history = std::make_shared<txflow::http::RunHistory>();
    txflow::Scheduler sched{
        txflow::SchedulerOptions{}.clock(clock).logger(txflow::test::quiet_logger()).listener(history)};
    sched.job("berlin").cron("0 30 2 * * *").in_zone("Europe/Berlin").run([](txflow::JobContext&) {});
    sched.job("new-york").cron("0 30 2 * * *").in_zone("America/New_York").run([](txflow::JobContext&) {});
    sched.job("hourly").every(1h).run([](txflow::JobContext&) {});
    sched.start();

    CHECK(sched.find("berlin")->info()->zone == "Europe/Berlin");
    CHECK(sched.find("new-york")->info()->zone == "America/New_York");
    CHECK(sched.find("hourly")->info()->zone.empty());

    // 02:30 in Berlin (UTC+1 in December) and in New York (UTC-5).
    const auto berlin = sched.next_fires("berlin", 3);
    REQUIRE(berlin.size() == 3);
    CHECK(berlin[0] == wall("2026-12-07T01:30:00Z"));
    CHECK(berlin[1] == wall("2026-12-08T01:30:00Z"));
    CHECK(berlin[2] == wall("2026-12-09T01:30:00Z"));
    const auto new_york = sched.next_fires("new-york", 2);
    REQUIRE(new_york.size() == 2);
    CHECK(new_york[0] == wall("2026-12-07T07:30:00Z"));
    CHECK(new_york[1] == wall("2026-12-08T07:30:00Z"));
    const auto hourly = sched.next_fires("hourly", 3);
    REQUIRE(hourly.size() == 3);
    CHECK(hourly[1] - hourly[0] == 1h);
    CHECK(hourly[2] - hourly[1] == 1h);
    CHECK(sched.next_fires("nope", 5).empty());
    CHECK(sched.next_fires("berlin", 0).empty());
    REQUIRE(sched.find("berlin")->pause());
    CHECK(sched.next_fires("berlin", 5).empty());
    REQUIRE(sched.find("berlin")->resume());

    // The dashboard shows the same: no zone of its own to configure.
    Served served(sched, history);
    auto c = served.client();
    const json ny = body_of(c.Get("/api/v1/jobs/new-york"));
    CHECK(ny["zone"] == "America/New_York");
    CHECK(ny["description"] == "At 02:30 (America/New_York time)");
    REQUIRE(ny["next_fires"].size() == 5);
    CHECK(ny["next_fires"][0] == ms(wall("2026-12-07T07:30:00Z")));
    const json page = body_of(c.Get("/api/v1/jobs?sort=next_fire"));
    REQUIRE(page["jobs"].size() == 3);
    CHECK(page["jobs"][0]["name"] == "hourly");
    CHECK(page["jobs"][0]["zone"].is_null());
    CHECK(page["jobs"][1]["name"] == "berlin");
    CHECK(page["jobs"][1]["zone"] == "Europe/Berlin");
    CHECK(page["jobs"][1]["next_fires"][0] == ms(wall("2026-12-07T01:30:00Z")));
    served.server.stop();
    (void)sched.stop(1s);
}

TEST_CASE("cancel a running run: stop requested, outcome cancelled, no retry", "[http][dashboard][cancel]") {
    DashboardServer d;
    std::atomic<bool> saw_stop{false};
    d.sched.job("slow")
        .every(1h)
        .retry(txflow::retry::fixed(1ms).attempts(3))
        .run([&saw_stop](txflow::JobContext& ctx) {
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (!ctx.stop_token().stop_requested() && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(1ms);
            saw_stop = ctx.stop_token().stop_requested();
            throw std::runtime_error("interrupted");  // a failure, yet no retry: it was cancelled
        });
    REQUIRE(d.sched.find("slow")->trigger_now());
    REQUIRE(eventually([&] { return running_fire(*d.history, "slow").has_value(); }));
    const std::int64_t fire = *running_fire(*d.history, "slow");

    auto c = d.client();
    const std::string path = "/api/v1/jobs/slow/runs/" + std::to_string(fire) + "/cancel";
    CHECK(c.Post(path.c_str(), "", "application/json")->status == 403);  // no CSRF token
    auto res = c.Post(path.c_str(), d.csrf(), "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(body_of(res)["action"] == "cancel");
    REQUIRE(eventually([&] {
        const auto runs = d.history->runs("slow");
        return !runs.empty() && runs[0].outcome != txflow::Outcome::none;
    }));
    d.sched.wait_idle();
    CHECK(saw_stop);
    const auto runs = d.history->runs("slow");
    REQUIRE(runs.size() == 1);  // no second attempt
    CHECK(runs[0].outcome == txflow::Outcome::cancelled);
    CHECK(runs[0].error == "cancelled");
    CHECK(d.sched.find("slow")->info()->attempt_count == 1);
    const json job = body_of(c.Get("/api/v1/jobs/slow"));
    CHECK(job["runs"][0]["outcome"] == "cancelled");

    // The run is over: cancelling it again finds nothing.
    res = c.Post(path.c_str(), d.csrf(), "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK_FALSE(body_of(res)["error"].get<std::string>().empty());
}

TEST_CASE("cancel a queued run: it never starts and ends cancelled", "[http][dashboard][cancel]") {
    txflow::ManualClock clock(wall("2026-12-07T12:00:00Z"));  // trigger_now's fire: this instant
    auto history = std::make_shared<txflow::http::RunHistory>();
    txflow::Scheduler sched{
        txflow::SchedulerOptions{}.clock(clock).workers(1).logger(txflow::test::quiet_logger()).listener(history)};
    txflow::test::Gate gate;  // after the scheduler: opens before its destructor waits for the blocker
    std::atomic<int> waiting_ran{0};
    sched.job("blocker").every(1h).run([opened = gate.opened](txflow::JobContext&) { opened.wait(); });
    sched.job("waiting").every(1h).run([&waiting_ran](txflow::JobContext&) { ++waiting_ran; });
    sched.start();
    REQUIRE(sched.find("blocker")->trigger_now());
    REQUIRE(eventually([&] { return running_fire(*history, "blocker").has_value(); }));
    REQUIRE(sched.find("waiting")->trigger_now());  // queued behind the blocker on the one worker
    const txflow::WallTime fire = clock.wall_now();
    CHECK_FALSE(sched.cancel_run("waiting", fire + 1ms));
    CHECK_FALSE(sched.cancel_run("nope", fire));
    CHECK(sched.cancel_run("waiting", fire));
    CHECK_FALSE(sched.cancel_run("waiting", fire));  // already cancelled
    gate.open();
    sched.wait_idle();
    CHECK(waiting_ran == 0);
    const auto runs = history->runs("waiting");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].outcome == txflow::Outcome::cancelled);
    CHECK(runs[0].fire_time == fire);
    CHECK(history->runs("blocker")[0].outcome == txflow::Outcome::succeeded);
    (void)sched.stop(1s);
}

TEST_CASE("cancel with an unknown job, fire or a malformed fire is a JSON 4xx", "[http][dashboard][cancel]") {
    DashboardServer d;
    auto c = d.client();
    const auto post = [&](const std::string& path) { return c.Post(path.c_str(), d.csrf(), "", "application/json"); };
    auto res = post("/api/v1/jobs/nope/runs/1000/cancel");
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(body_of(res)["error"] == "no job named 'nope'");
    res = post("/api/v1/jobs/beta/runs/1000/cancel");
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(body_of(res)["error"] == "job 'beta' has no queued or running run for the fire 1000");
    for (const char* bad : {"/api/v1/jobs/beta/runs/abc/cancel", "/api/v1/jobs/beta/runs/-/cancel",
                            "/api/v1/jobs/beta/runs/99999999999999999999/cancel"}) {
        INFO(bad);
        res = post(bad);
        REQUIRE(res);
        CHECK(res->status == 400);
        CHECK(body_of(res).contains("error"));
    }
    res = post("/api/v1/jobs/beta/runs/1000/stop");
    REQUIRE(res);
    CHECK(res->status == 404);
}

TEST_CASE("the run history carries each attempt's trace and span ids", "[http][dashboard][trace]") {
    auto exporter = std::make_shared<txflow::test::CollectingExporter>();
    auto tracer = std::make_shared<txflow::observe::Tracer>(exporter);
    auto history = std::make_shared<txflow::http::RunHistory>();
    txflow::Scheduler sched{
        txflow::SchedulerOptions{}.logger(txflow::test::quiet_logger()).listener(history).tracer(tracer)};
    std::atomic<int> calls{0};
    sched.job("flaky").every(1h).retry(txflow::retry::fixed(1ms).attempts(2)).run([&](txflow::JobContext&) {
        if (++calls == 1) throw std::runtime_error("first attempt fails");
    });
    sched.start();
    REQUIRE(sched.find("flaky")->trigger_now());
    REQUIRE(eventually([&] {
        const auto runs = history->runs("flaky");
        return runs.size() == 2 && runs[0].outcome == txflow::Outcome::succeeded;
    }));
    const auto runs = history->runs("flaky");  // newest first
    const auto spans = exporter->spans();
    REQUIRE(spans.size() == 2);
    for (const auto& run : runs) {
        CHECK(run.trace_id.size() == 32);
        CHECK(run.span_id.size() == 16);
        const bool exported = std::any_of(spans.begin(), spans.end(), [&](const txflow::observe::Span& s) {
            return s.context.trace_id_hex() == run.trace_id && s.context.span_id_hex() == run.span_id;
        });
        CHECK(exported);
    }
    CHECK(runs[0].span_id != runs[1].span_id);

    Served served(sched, history);
    auto c = served.client();
    const json job = body_of(c.Get("/api/v1/jobs/flaky"));
    REQUIRE(job["runs"].size() == 2);
    CHECK(job["runs"][0]["trace_id"] == runs[0].trace_id);
    CHECK(job["runs"][0]["span_id"] == runs[0].span_id);
    served.server.stop();
    (void)sched.stop(1s);
}

TEST_CASE("without a tracer the runs have no trace id (null in the API)", "[http][dashboard][trace]") {
    DashboardServer d;
    REQUIRE(d.sched.find("beta")->trigger_now());
    REQUIRE(eventually([&] {
        const auto runs = d.history->runs("beta");
        return !runs.empty() && runs[0].outcome != txflow::Outcome::none;
    }));
    CHECK(d.history->runs("beta")[0].trace_id.empty());
    auto c = d.client();
    CHECK(body_of(c.Get("/api/v1/jobs/beta"))["runs"][0]["trace_id"].is_null());
}

TEST_CASE("GET /api/v1/transactions and /transactions/{id}: participants, phases, last errors",
          "[http][dashboard][atomic]") {
    DashboardServer d;
    std::atomic<bool> refuse{false};
    auto def = txflow::Atomic("transfer")
                   .participant("bank-a")
                   .prepare([](txflow::atomic::Context&) { return txflow::atomic::Vote::commit(); })
                   .commit([](txflow::atomic::Context&) {})
                   .abort([](txflow::atomic::Context&) {})
                   .participant("bank-b")
                   .prepare([&refuse](txflow::atomic::Context&) {
                       return refuse ? txflow::atomic::Vote::refuse("account closed") : txflow::atomic::Vote::commit();
                   })
                   .commit([](txflow::atomic::Context&) {})
                   .abort([](txflow::atomic::Context&) {})
                   .build();
    REQUIRE(d.sched.wait_transaction(d.sched.start_atomic(def, {{"amount", 10}}, "t-ok"), 10s)->state ==
            txflow::atomic::State::committed);
    refuse = true;
    REQUIRE(d.sched.wait_transaction(d.sched.start_atomic(def, {}, "t-no"), 10s)->state ==
            txflow::atomic::State::aborted);

    auto c = d.client();
    json list = body_of(c.Get("/api/v1/transactions"));
    CHECK(list["total"] == 2);
    REQUIRE(list["transactions"].size() == 2);
    CHECK(list["transactions"][0]["participants"] == 2);
    list = body_of(c.Get("/api/v1/transactions?state=aborted"));
    REQUIRE(list["transactions"].size() == 1);
    CHECK(list["transactions"][0]["id"] == "t-no");
    CHECK(list["transactions"][0]["phase"] == "abort");
    CHECK(body_of(c.Get("/api/v1/transactions?name=other"))["total"] == 0);

    const json ok = body_of(c.Get("/api/v1/transactions/t-ok"));
    CHECK(ok["state"] == "committed");
    CHECK(ok["phase"] == "commit");
    CHECK(ok["data"]["amount"] == 10);
    REQUIRE(ok["participants"].size() == 2);
    CHECK(ok["participants"][0]["name"] == "bank-a");
    CHECK(ok["participants"][0]["state"] == "committed");
    CHECK(ok["participants"][0]["phase"] == "commit");
    const json no = body_of(c.Get("/api/v1/transactions/t-no"));
    REQUIRE(no["participants"].size() == 2);
    CHECK(no["participants"][1]["reason"] == "account closed");
    CHECK(no["participants"][1]["phase"] == "abort");
    CHECK(no["participants"][1].contains("last_error"));

    auto res = c.Get("/api/v1/transactions/nope");
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(body_of(res)["error"] == "no transaction with id 'nope'");
    res = c.Get("/api/v1/transactions?state=done");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(c.Get("/api/v1/transactions?limit=x")->status == 400);
}

TEST_CASE("GET /api/v1/cluster without a cluster store says so", "[http][dashboard][cluster]") {
    DashboardServer d;
    auto c = d.client();
    const json cluster = body_of(c.Get("/api/v1/cluster"));
    CHECK(cluster["enabled"] == false);
}

}  // namespace dashboard_control_test
