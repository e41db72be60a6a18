// The dashboard's read API against a real scheduler on 127.0.0.1:0.

#include <catch2/catch.hpp>

#include "dashboard_fixture.hpp"

namespace dashboard_api_test {

using nlohmann::json;
using txflow::test::body_of;
using txflow::test::DashboardServer;
using txflow::test::eventually;

TEST_CASE("GET /api/v1/session and /overview describe the dashboard and the scheduler", "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    const json session = body_of(c.Get("/api/v1/session"));
    CHECK(session["csrf_token"] == d.dashboard->csrf_token());
    CHECK(session["read_only"] == false);

    auto res = c.Get("/api/v1/overview");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    const json o = json::parse(res->body);
    CHECK(o["jobs"] == 3);
    CHECK(o["paused"] == 0);
    CHECK(o["last_hour"].size() == 60);
    CHECK(o["queues"].size() >= 2);
}

TEST_CASE("GET /api/v1/jobs pages, filters and sorts, with descriptions and next fires", "[http][dashboard]") {
    DashboardServer d({}, 120);
    auto c = d.client();
    json page = body_of(c.Get("/api/v1/jobs?limit=2"));
    CHECK(page["total"] == 123);
    REQUIRE(page["jobs"].size() == 2);
    CHECK(page["jobs"][0]["name"] == "alpha");
    CHECK(page["jobs"][0]["zone"] == "Europe/Berlin");
    CHECK(page["jobs"][0]["description"] == "At 02:30 (Europe/Berlin time)");
    CHECK(page["jobs"][0]["next_fires"].size() == 5);
    CHECK(page["jobs"][1]["name"] == "beta");

    page = body_of(c.Get("/api/v1/jobs?offset=120&limit=50"));
    CHECK(page["jobs"].size() == 3);
    page = body_of(c.Get("/api/v1/jobs?q=FILLER-11&limit=100"));
    CHECK(page["total"] == 11);  // filler-11 and filler-110..119
    page = body_of(c.Get("/api/v1/jobs?sort=name&order=desc&limit=1"));
    CHECK(page["jobs"][0]["name"] == "filler-99");
    page = body_of(c.Get("/api/v1/jobs?offset=5000"));
    CHECK(page["jobs"].empty());

    for (const char* bad : {"/api/v1/jobs?limit=abc", "/api/v1/jobs?limit=5000", "/api/v1/jobs?sort=color",
                            "/api/v1/jobs?order=up", "/api/v1/jobs?offset=-1"}) {
        auto res = c.Get(bad);
        REQUIRE(res);
        INFO(bad);
        CHECK(res->status == 400);
        CHECK_FALSE(body_of(res)["error"].get<std::string>().empty());
    }
}

TEST_CASE("GET /api/v1/jobs/{name} has the run history; unknown names are 404", "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    REQUIRE(d.sched.find("beta")->trigger_now());
    REQUIRE(eventually([&] {
        return !d.history->runs("beta").empty() && d.history->runs("beta")[0].outcome != txflow::Outcome::none;
    }));
    const json job = body_of(c.Get("/api/v1/jobs/beta"));
    CHECK(job["name"] == "beta");
    CHECK(job["description"] == "every 1h");
    REQUIRE(job["runs"].size() == 1);
    CHECK(job["runs"][0]["outcome"] == "succeeded");
    CHECK(job["runs"][0]["attempt"] == 1);

    auto missing = c.Get("/api/v1/jobs/nope");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(body_of(missing)["error"] == "no job named 'nope'");
    CHECK(c.Get("/api/v1/jobs/a%2")->status == 400);  // malformed escape

    const json runs = body_of(c.Get("/api/v1/runs?minutes=5"));
    REQUIRE(runs["runs"].size() >= 1);
    CHECK(runs["runs"][0]["job"] == "beta");
    CHECK(c.Get("/api/v1/runs?minutes=x")->status == 400);
}

TEST_CASE("GET /api/v1/sagas filters by state and name; /sagas/{id} shows steps and compensations",
          "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    const std::string id = d.compensated_saga();
    json list = body_of(c.Get("/api/v1/sagas?state=compensated&name=order"));
    REQUIRE(list["total"] == 1);
    CHECK(list["sagas"][0]["id"] == id);
    CHECK(body_of(c.Get("/api/v1/sagas?state=running"))["total"] == 0);
    CHECK(body_of(c.Get("/api/v1/sagas?name=other"))["total"] == 0);
    CHECK(c.Get("/api/v1/sagas?state=happy")->status == 400);

    const json saga = body_of(c.Get("/api/v1/sagas/" + id));
    CHECK(saga["state"] == "compensated");
    REQUIRE(saga["steps"].size() == 3);
    CHECK(saga["steps"][0]["state"] == "compensated");
    CHECK(saga["steps"][1]["state"] == "compensated");
    CHECK(saga["steps"][2]["state"] == "failed");
    CHECK(saga["steps"][2]["error"] == "no courier");
    // Undone in reverse order: charge's compensation ended before reserve's.
    CHECK(saga["steps"][1]["finished"].get<std::int64_t>() <= saga["steps"][0]["finished"].get<std::int64_t>());
    CHECK(c.Get("/api/v1/sagas/unknown")->status == 404);
}

TEST_CASE("GET /api/v1/queues, /breakers and /dead-letters", "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    d.sched.breaker("payments", txflow::BreakerOptions{});
    REQUIRE(d.sched.find("boom")->trigger_now());
    REQUIRE(eventually([&] { return !d.sched.dead_letters().empty(); }));

    const json queues = body_of(c.Get("/api/v1/queues"));
    bool io = false;
    for (const json& q : queues["queues"]) io = io || (q["name"] == "io" && q["limit"] == 1);
    CHECK(io);
    const json breakers = body_of(c.Get("/api/v1/breakers"));
    REQUIRE(breakers["breakers"].size() == 1);
    CHECK(breakers["breakers"][0]["name"] == "payments");
    CHECK(breakers["breakers"][0]["state"] == "closed");
    const json dead = body_of(c.Get("/api/v1/dead-letters"));
    REQUIRE(dead["dead_letters"].size() == 1);
    CHECK(dead["dead_letters"][0]["job"] == "boom");
    CHECK(dead["dead_letters"][0]["error"] == "disk full");
}

TEST_CASE("the UI's files are served from the binary; unknown paths are JSON 404s", "[http][dashboard]") {
    DashboardServer d;
    auto c = d.client();
    auto page = c.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(page->body.find("<script src=\"/app.js\">") != std::string::npos);
    CHECK(c.Get("/app.js")->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(c.Get("/app.css")->status == 200);

    auto traversal = c.Get("/..%2f..%2fetc/passwd");
    REQUIRE(traversal);
    CHECK((traversal->status == 400 || traversal->status == 404));
    CHECK(traversal->body.find("root:") == std::string::npos);
    CHECK(c.Get("/../../etc/passwd")->body.find("root:") == std::string::npos);
    CHECK(c.Get("/nothing.js")->status == 404);
    CHECK(c.Get("/api/v1/nothing")->status == 404);
    CHECK(body_of(c.Get("/api/v2/jobs"))["error"] == "unknown API version: /api/v2/jobs (use /api/v1/)");
}

}  // namespace dashboard_api_test
