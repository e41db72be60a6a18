// Authentication: bearer token (header, cookie from ?token=), basic auth, and
// the refusal to listen beyond loopback without either.

#include <catch2/catch.hpp>

#include "dashboard_fixture.hpp"

namespace dashboard_auth_test {

using txflow::test::DashboardServer;

TEST_CASE("with a bearer token every request needs it", "[http][dashboard][auth]") {
    txflow::http::DashboardOptions options;
    options.bearer_token = "s3cret";
    DashboardServer d(options);
    auto c = d.client();
    auto res = c.Get("/api/v1/jobs");
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(res->get_header_value("WWW-Authenticate") == "Bearer realm=\"txflow\"");
    CHECK(c.Get("/")->status == 401);
    CHECK(c.Get("/api/v1/jobs", {{"Authorization", "Bearer wrong"}})->status == 401);
    CHECK(c.Get("/api/v1/jobs", {{"Authorization", "Bearer s3cret"}})->status == 200);
    CHECK(c.Post("/api/v1/jobs/beta/pause", d.csrf(), "", "application/json")->status == 401);
    CHECK_FALSE(d.sched.find("beta")->info()->paused);

    // Opening the page with ?token= sets the cookie the page's API calls carry.
    auto page = c.Get("/?token=s3cret");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("Set-Cookie").starts_with("txflow_token=s3cret;"));
    CHECK(c.Get("/api/v1/jobs", {{"Cookie", "a=b; txflow_token=s3cret"}})->status == 200);
    CHECK(c.Get("/api/v1/jobs", {{"Cookie", "txflow_token=s3cre"}})->status == 401);
}

TEST_CASE("basic auth", "[http][dashboard][auth]") {
    txflow::http::DashboardOptions options;
    options.basic_user = "ops";
    options.basic_password = "pw";
    DashboardServer d(options);
    auto c = d.client();
    auto res = c.Get("/api/v1/jobs");
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK(res->get_header_value("WWW-Authenticate") == "Basic realm=\"txflow\"");
    c.set_basic_auth("ops", "pw");
    CHECK(c.Get("/api/v1/jobs")->status == 200);
    c.set_basic_auth("ops", "nope");
    CHECK(c.Get("/api/v1/jobs")->status == 401);
}

TEST_CASE("malformed basic-auth headers are refused with 401, never accepted or crashed on",
          "[http][dashboard][auth]") {
    txflow::http::DashboardOptions options;
    options.basic_user = "ops";
    options.basic_password = "pw";
    DashboardServer d(options);
    auto c = d.client();
    const auto with = [&](const std::string& authorization) {
        auto res = c.Get("/api/v1/jobs", {{"Authorization", authorization}});
        return res ? res->status : -1;
    };
    CHECK(with("Basic b3BzOnB3") == 200);  // "ops:pw"
    for (const char* bad : {
             "Basic ",              // nothing
             "Basic b3BzOnB3=",     // length not a multiple of 4
             "Basic b3BzOnB3====",  // too much padding
             "Basic ====",          // only padding
             "Basic b3Bz=OnB3",     // padding in the middle
             "Basic b3BzOn!3",      // outside the alphabet
             "Basic b3BzOnB",       // truncated
             "Basic b3BzOnB4",      // "ops:px": decodes, wrong password
             "Basic b3Bz",          // "ops", no colon
             "Bearer b3BzOnB3",     // another scheme
         }) {
        INFO(bad);
        CHECK(with(bad) == 401);
    }
    std::string huge = "Basic ";
    huge.append(6000, 'A');  // decodes to 4500 zero bytes
    CHECK(with(huge) == 401);
}

TEST_CASE("mount() refuses a non-loopback address without authentication", "[http][dashboard][auth]") {
    txflow::Scheduler sched{txflow::SchedulerOptions{}.logger(txflow::test::quiet_logger("dash"))};
    txflow::http::ServerOptions listen;
    listen.host = "0.0.0.0";
    listen.port = 0;
    txflow::http::Server server(listen);
    txflow::http::Dashboard open(sched, nullptr, {});
    CHECK_THROWS_WITH(open.mount(server), Catch::Contains("beyond loopback"));
    txflow::http::DashboardOptions options;
    options.bearer_token = "t";
    txflow::http::Dashboard guarded(sched, nullptr, options);
    CHECK_NOTHROW(guarded.mount(server));

    CHECK(txflow::http::is_loopback_host("127.0.0.1"));
    CHECK(txflow::http::is_loopback_host("::1"));
    CHECK(txflow::http::is_loopback_host("localhost"));
    CHECK_FALSE(txflow::http::is_loopback_host("0.0.0.0"));
    CHECK_FALSE(txflow::http::is_loopback_host("10.0.0.1"));
}

}  // namespace dashboard_auth_test
