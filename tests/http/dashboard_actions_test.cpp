// The dashboard's POST actions: CSRF, read-only, bad bodies, unknown ids.

#include <catch2/catch.hpp>

#include "dashboard_fixture.hpp"

namespace dashboard_actions_test {

using nlohmann::json;
using txflow::test::body_of;
using txflow::test::DashboardServer;
using txflow::test::eventually;

TEST_CASE("pause, resume and trigger a job with the CSRF token", "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    auto res = c.Post("/api/v1/jobs/beta/pause", d.csrf(), "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(body_of(res)["ok"] == true);
    CHECK(d.sched.find("beta")->info()->paused);
    CHECK(body_of(c.Get("/api/v1/jobs/beta"))["paused"] == true);
    CHECK(c.Post("/api/v1/jobs/beta/resume", d.csrf(), "{}", "application/json")->status == 200);
    CHECK_FALSE(d.sched.find("beta")->info()->paused);
    CHECK(c.Post("/api/v1/jobs/beta/trigger", d.csrf(), "", "application/json")->status == 200);
    CHECK(eventually([&] { return d.sched.find("beta")->info()->run_count == 1; }));

    CHECK(c.Post("/api/v1/jobs/nope/pause", d.csrf(), "", "application/json")->status == 404);
    CHECK(c.Post("/api/v1/jobs/beta/explode", d.csrf(), "", "application/json")->status == 404);
    CHECK(c.Post("/api/v1/teapot", d.csrf(), "", "application/json")->status == 404);
}

TEST_CASE("POST without the CSRF token, with malformed JSON or an oversize body is refused", "[http][dashboard]") {
    txflow::http::DashboardOptions options;
    options.max_body_bytes = 1024;
    DashboardServer d(options);
    auto c = d.client();
    auto res = c.Post("/api/v1/jobs/beta/pause", "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(body_of(res)["error"].get<std::string>().find("X-CSRF-Token") != std::string::npos);
    CHECK(c.Post("/api/v1/jobs/beta/pause", {{"X-CSRF-Token", "guess"}}, "", "application/json")->status == 403);
    CHECK_FALSE(d.sched.find("beta")->info()->paused);

    res = c.Post("/api/v1/jobs/beta/pause", d.csrf(), "{not json", "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(body_of(res)["error"] == "the request body is not valid JSON");
    CHECK(c.Post("/api/v1/jobs/beta/pause", d.csrf(), "[1]", "application/json")->status == 400);
    res = c.Post("/api/v1/jobs/beta/pause", d.csrf(), std::string(4096, ' '), "application/json");
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK_FALSE(d.sched.find("beta")->info()->paused);
    CHECK(c.Delete("/api/v1/jobs/beta")->status == 405);
}

TEST_CASE("read-only mode refuses every action with 403", "[http][dashboard]") {
    txflow::http::DashboardOptions options;
    options.read_only = true;
    DashboardServer d(options);
    auto c = d.client();
    CHECK(body_of(c.Get("/api/v1/session"))["read_only"] == true);
    auto res = c.Post("/api/v1/jobs/beta/pause", d.csrf(), "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(body_of(res)["error"] == "the dashboard is read-only: actions are disabled");
    CHECK_FALSE(d.sched.find("beta")->info()->paused);
    CHECK(c.Get("/api/v1/jobs")->status == 200);
}

TEST_CASE("retry a dead letter; saga actions answer 404 and 409 when they do not apply", "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    REQUIRE(d.sched.find("boom")->trigger_now());
    REQUIRE(eventually([&] { return !d.sched.dead_letters().empty(); }));
    const std::string id = std::to_string(d.sched.dead_letters()[0].id);
    CHECK(c.Post("/api/v1/dead-letters/" + id + "/retry", d.csrf(), "", "application/json")->status == 200);
    CHECK(eventually([&] { return d.sched.find("boom")->info()->run_count == 2; }));
    CHECK(c.Post("/api/v1/dead-letters/999999/retry", d.csrf(), "", "application/json")->status == 404);
    CHECK(c.Post("/api/v1/dead-letters/x/retry", d.csrf(), "", "application/json")->status == 400);

    const std::string saga = d.compensated_saga();
    auto res = c.Post("/api/v1/sagas/" + saga + "/retry-compensation", d.csrf(), "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 409);
    CHECK(body_of(res)["error"] == "saga '" + saga + "' is compensated, not compensation_failed");
    CHECK(c.Post("/api/v1/sagas/" + saga + "/cancel", d.csrf(), "{\"reason\": \"x\"}", "application/json")->status ==
          409);
    CHECK(c.Post("/api/v1/sagas/" + saga + "/cancel", d.csrf(), "{\"reason\": 5}", "application/json")->status == 400);
    CHECK(c.Post("/api/v1/sagas/nope/cancel", d.csrf(), "", "application/json")->status == 404);
}

}  // namespace dashboard_actions_test
