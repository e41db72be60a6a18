// The embeddable server on an ephemeral loopback port, driven by httplib's client.

#include <catch2/catch.hpp>

#include <httplib.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "txflow/http/server.hpp"
#include "txflow/observe/metrics.hpp"

namespace server_test {

using txflow::http::Request;
using txflow::http::Response;
using txflow::http::Server;
using txflow::http::ServerOptions;

namespace {
ServerOptions ephemeral() {
    ServerOptions o;
    o.port = 0;
    return o;
}
}  // namespace

TEST_CASE("GET /metrics serves the registry in the text format 0.0.4", "[http]") {
    auto registry = std::make_shared<txflow::observe::Registry>();
    registry->counter("demo_requests_total", "demo").with({}).inc(7);
    auto server = txflow::http::serve_metrics(registry, ephemeral());
    REQUIRE(server);
    const std::uint16_t port = (*server)->port();
    REQUIRE(port != 0);

    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/metrics");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(res->body.find("demo_requests_total 7\n") != std::string::npos);

    registry->counter("demo_requests_total", "demo").with({}).inc();
    res = client.Get("/metrics");
    REQUIRE(res);
    CHECK(res->body.find("demo_requests_total 8\n") != std::string::npos);
}

TEST_CASE("unknown paths get 404, other methods 405, a throwing handler 500", "[http]") {
    Server server(ephemeral());
    server.get("/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); });
    server.get("/static/*", [](const Request& r) { return Response{200, "text/plain", "asset " + r.path, {}}; });
    server.get("/echo", [](const Request& r) {
        const auto it = r.params.find("q");
        return Response{200, "text/plain", it == r.params.end() ? "" : it->second, {}};
    });
    auto started = server.start();
    REQUIRE(started);
    CHECK_THROWS_AS(server.route("GET", "/late", {}), std::logic_error);

    httplib::Client client("127.0.0.1", server.port());
    auto res = client.Get("/nope");
    REQUIRE(res);
    CHECK(res->status == 404);
    res = client.Post("/echo", std::string("x"), std::string("text/plain"));
    REQUIRE(res);
    CHECK(res->status == 405);
    CHECK(res->get_header_value("Allow") == "GET");
    res = client.Get("/boom");
    REQUIRE(res);
    CHECK(res->status == 500);
    CHECK(res->body.find("kaput") != std::string::npos);
    res = client.Get("/static/app.js");
    REQUIRE(res);
    CHECK(res->body == "asset /static/app.js");
    res = client.Get("/echo?q=hi%20there");
    REQUIRE(res);
    CHECK(res->body == "hi there");
    server.stop();
    server.stop();  // idempotent
    CHECK_FALSE(client.Get("/echo"));
}

TEST_CASE("a port in use is an error naming the address; stop without start is fine", "[http]") {
    Server first(ephemeral());
    REQUIRE(first.start());
    ServerOptions same;
    same.port = first.port();
    Server second(same);
    auto started = second.start();
    REQUIRE_FALSE(started);
    CHECK(started.error().find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
    Server never(ephemeral());
    never.stop();
}

TEST_CASE("a server stopped right after start does not hang", "[http]") {
    for (int i = 0; i < 20; ++i) {
        Server s(ephemeral());
        REQUIRE(s.start());
        s.stop();
    }
}

TEST_CASE("listen addresses parse, with clear errors", "[http]") {
    auto a = txflow::http::parse_listen_address("127.0.0.1:9464");
    REQUIRE(a);
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 9464);
    auto b = txflow::http::parse_listen_address("[::1]:0");
    REQUIRE(b);
    CHECK(b->host == "::1");
    CHECK(b->port == 0);
    auto c = txflow::http::parse_listen_address(":9000");
    REQUIRE(c);
    CHECK(c->host == "127.0.0.1");
    CHECK_FALSE(txflow::http::parse_listen_address("localhost"));
    auto bad = txflow::http::parse_listen_address("127.0.0.1:99999");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == "'127.0.0.1:99999': the port must be a number from 0 to 65535");
}

}  // namespace server_test
