#pragma once
/// @file
/// A small embeddable HTTP server (cpp-httplib underneath, never exposed):
/// GET /metrics for a metrics registry today, and the routes a later dashboard
/// adds (/api/v1/..., static assets) through route().
///
///     auto registry = std::make_shared<txflow::observe::Registry>();
///     txflow::Scheduler sched{txflow::SchedulerOptions{}.metrics(registry)};
///     auto server = txflow::http::serve_metrics(registry);  // http://127.0.0.1:9464/metrics
///     if (!server) { ... server.error() ... }               // e.g. the port is taken
///
/// Loopback by default: pass host "0.0.0.0" to be reachable from elsewhere
/// (there is no authentication). A path with no route gets 404, a route asked
/// with another method 405 (with Allow), a handler's exception 500.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/observe/metrics.hpp"
#include "txflow/result.hpp"

namespace txflow::http {

/// Where a Server listens and how many connections it serves at once.
struct TXFLOW_EXPORT ServerOptions {
    std::string host = "127.0.0.1";  ///< loopback by default; "0.0.0.0" to be reachable from elsewhere
    std::uint16_t port = 9464;       ///< 0: any free port (Server::port() tells which)
    std::size_t threads = 2;         ///< connections served at once
};

/// An HTTP request as a Handler sees it.
struct TXFLOW_EXPORT Request {
    std::string method;                               ///< "GET", "POST", ...
    std::string path;                                 ///< without the query string
    std::multimap<std::string, std::string> params;   ///< query parameters
    std::string body;                                 ///< the request body
    std::multimap<std::string, std::string> headers;  ///< names lower-cased
    /// The first value of a header (name lower-cased), or "" when absent.
    [[nodiscard]] std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// What a Handler answers.
struct TXFLOW_EXPORT Response {
    int status = 200;                                          ///< the HTTP status code
    std::string content_type = "text/plain; charset=utf-8";    ///< the Content-Type header
    std::string body;                                          ///< the response body
    std::vector<std::pair<std::string, std::string>> headers;  ///< more headers, in order
};

/// Answers one request; an exception becomes a 500.
using Handler = std::function<Response(const Request&)>;

/// A small embeddable HTTP server (see the file's notes).
class TXFLOW_EXPORT Server {
public:
    /// Nothing is bound until start().
    explicit Server(ServerOptions options = {});
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();  ///< stop()

    /// Adds a route before start() (std::logic_error after). A path ending in
    /// '*' matches every path with that prefix; an exact path wins over a prefix,
    /// a longer prefix over a shorter. HEAD is served by the GET route.
    Server& route(std::string method, std::string path, Handler handler);
    /// route("GET", path, handler).
    Server& get(std::string path, Handler handler) { return route("GET", std::move(path), std::move(handler)); }
    /// GET `path`: the registry's text exposition (Registry::kContentType).
    Server& metrics(std::shared_ptr<observe::Registry> registry, std::string path = "/metrics");

    /// Binds host:port and serves on a thread of its own. The error says what
    /// could not be bound and why. Once only.
    Result<std::uint16_t, std::string> start();
    /// Stops accepting, finishes the requests in progress, joins. Idempotent.
    void stop();
    /// The bound port (the actual one when options().port was 0); 0 before start().
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// The options it was built with.
    [[nodiscard]] const ServerOptions& options() const noexcept { return options_; }

private:
    struct Impl;
    ServerOptions options_;
    std::uint16_t port_ = 0;
    std::unique_ptr<Impl> impl_;
};

/// One call: a started server with GET /metrics for `registry`.
[[nodiscard]] TXFLOW_EXPORT Result<std::unique_ptr<Server>, std::string> serve_metrics(
    std::shared_ptr<observe::Registry> registry, ServerOptions options = {});

/// "127.0.0.1:9464", "[::1]:9464", ":9464" (loopback) -> host and port; the error
/// names the text and what is wrong with it.
[[nodiscard]] TXFLOW_EXPORT Result<ServerOptions, std::string> parse_listen_address(std::string_view text);

}  // namespace txflow::http
