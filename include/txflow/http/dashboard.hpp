#pragma once
/// @file
/// The web dashboard: a JSON API under /api/v1/ and a single-page UI (HTML,
/// CSS and JavaScript compiled into the library) mounted on an http::Server
/// next to /metrics. docs/dashboard.md has the API reference.
///
///     auto history = std::make_shared<txflow::http::RunHistory>();
///     txflow::Scheduler sched{txflow::SchedulerOptions{}.listener(history)};
///     txflow::http::Server server{{.host = "127.0.0.1", .port = 8080}};
///     txflow::http::Dashboard dashboard{sched, history, {}};
///     dashboard.mount(server);  // GET /, /app.js, /app.css, /api/v1/...
///     server.start();
///
/// Actions (POST) need the CSRF token of GET /api/v1/session in the
/// X-CSRF-Token header, and are refused (403) in read-only mode. With a bearer
/// token or basic-auth credentials every request needs them (401 otherwise);
/// mount() refuses a non-loopback server without either.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/core/export.hpp"
#include "txflow/http/run_history.hpp"
#include "txflow/http/server.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/pg_options.hpp"

namespace txflow::http {

/// How the dashboard is protected and what it shows.
struct TXFLOW_EXPORT DashboardOptions {
    /// Non-empty: requests need `Authorization: Bearer <token>` (or the
    /// txflow_token cookie, set by opening the page once with `?token=<token>`).
    std::string bearer_token;
    /// Non-empty user: requests may authenticate with HTTP basic auth.
    std::string basic_user;
    /// The basic-auth password (with basic_user).
    std::string basic_password;
    /// Actions are hidden in the UI and refused (403) by the API.
    bool read_only = false;
    /// Bodies larger than this are refused with 413.
    std::size_t max_body_bytes = 64 * 1024;
    /// With a cluster's PostgreSQL store: /api/v1/cluster and the cluster page
    /// show its nodes, cron leader leases and running jobs (docs/cluster.md).
    std::optional<store::PgOptions> cluster;
    /// Breakers to list besides those seen changing state.
    std::vector<std::string> breakers;
};

/// The dashboard over one scheduler; mount() it on a server before start().
class TXFLOW_EXPORT Dashboard {
public:
    /// `scheduler` must outlive the dashboard; `history` should be a listener of it.
    Dashboard(Scheduler& scheduler, std::shared_ptr<RunHistory> history, DashboardOptions options = {});
    Dashboard(const Dashboard&) = delete;
    Dashboard& operator=(const Dashboard&) = delete;
    ~Dashboard();

    /// Adds the UI at / and the API at /api/v1/. Throws std::invalid_argument
    /// when the server listens beyond loopback and no authentication is set.
    /// The routes call this dashboard: stop() the server before destroying it
    /// (declare the dashboard before the server).
    void mount(Server& server);
    /// Answers one request (what the mounted routes call); never throws.
    [[nodiscard]] Response handle(const Request& request) const;
    /// The token POST requests carry in X-CSRF-Token.
    [[nodiscard]] const std::string& csrf_token() const noexcept;

    /// The state the handlers share (src/http/dashboard/internal.hpp).
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// True for 127.0.0.0/8, ::1 and "localhost".
[[nodiscard]] TXFLOW_EXPORT bool is_loopback_host(std::string_view host);

}  // namespace txflow::http
