// `txflow run FILE [--for DURATION] [--log-format text|json] [--drain DURATION] [--kill-grace DURATION]
//              [--http HOST:PORT]`
//
// The daemon: validates FILE (exit 1 with every problem if invalid), builds
// the scheduler, opens the state directory's write-ahead log (recovering
// what a crash interrupted), and runs until:
//   SIGTERM / SIGINT  stop firing, let running commands finish for up to
//                     --drain, then SIGTERM them (SIGKILL after --kill-grace);
//                     exit 0
//   --for elapsed     the same, for bounded runs (demos, tests)
// SIGHUP re-reads FILE: if it is invalid the problems are logged and the
// running schedule is kept; otherwise jobs are added, removed, or replaced
// when their definition changed, and unchanged jobs keep their state.
//
// Signals are blocked in every thread before any is created and taken by
// sigtimedwait() on the main thread: no work happens in a signal handler.
// Logs go to stdout (text, or JSON lines with --log-format json).
// --http HOST:PORT serves GET /metrics (Prometheus text format) of the
// daemon's scheduler there, from before the first fire until the drain ends,
// and the web dashboard at / with its API at /api/v1/ (docs/dashboard.md);
// --http-token (or TXFLOW_HTTP_TOKEN) requires a bearer token, --read-only
// refuses the actions.
// --store URL (or "store" in FILE) runs FILE as a cluster member instead
// (run_cluster.cpp; --schema, --node, --lease; docs/cluster.md).
// Run as root, FILE must be owned by root and not writable by group or
// others, and commands without a "user" are warned about (docs/daemon.md).
// Exit status: 0 stopped cleanly, 1 invalid or unsafe file or state directory, 2 usage.

#include "run_command.hpp"

#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

#include "run_cluster.hpp"
#include "signals.hpp"
#include "txflow/daemon/daemon.hpp"
#include "txflow/daemon/safety.hpp"
#include "txflow/http/dashboard.hpp"
#include "txflow/http/server.hpp"
#include "txflow/observe/exporters.hpp"
#include "txflow/observe/metrics.hpp"
#include "txflow/schedule_file/schedule.hpp"
#include "validate_command.hpp"

namespace txflow::tool {
namespace {

using std::chrono::milliseconds;

struct RunOptions {
    std::string path;
    std::string run_for;
    std::string log_format;
    std::string drain = "30s";
    std::string kill_grace = "5s";
    std::string http;        // HOST:PORT for /metrics and the dashboard; empty: no server
    std::string http_token;  // --http-token, else $TXFLOW_HTTP_TOKEN
    bool read_only = false;
    std::string otlp;  // collector URL for spans; empty: OTEL_EXPORTER_OTLP_ENDPOINT, if set
    // Cluster mode (docs/cluster.md): the database (else the file's "store"), schema, node name, lease.
    std::string store;
    std::string schema = "txflow";
    std::string node;
    std::string lease = "30s";
};

milliseconds duration_option(const std::string& flag, const std::string& text) {
    auto d = schedule_file::parse_duration(text);
    if (!d) throw Failure(kExitUsage, flag + ": " + d.error());
    return *d;
}

// Auth for the dashboard: the token from the flag or the environment (each
// cron job's zone comes from the scheduler: JobInfo::zone).
http::DashboardOptions dashboard_options(const RunOptions& o) {
    http::DashboardOptions options;
    options.read_only = o.read_only;
    options.bearer_token = o.http_token;
    if (options.bearer_token.empty())
        if (const char* env = std::getenv("TXFLOW_HTTP_TOKEN"); env != nullptr) options.bearer_token = env;
    return options;
}

int run_daemon(const RunOptions& o, Context& ctx) {
    // --for: a bounded run (GCC 12 warns about std::optional here, hence the flag).
    const bool bounded = !o.run_for.empty();
    const milliseconds run_for = bounded ? duration_option("--for", o.run_for) : milliseconds{0};
    const milliseconds drain = duration_option("--drain", o.drain);
    daemon::DaemonOptions options;
    options.kill_grace = duration_option("--kill-grace", o.kill_grace);
    if (!o.log_format.empty())
        options.log_format = o.log_format == "json" ? schedule_file::LogFormat::json : schedule_file::LogFormat::text;
    std::optional<http::ServerOptions> listen;
    const auto history = std::make_shared<http::RunHistory>();
    if (!o.http.empty()) {
        auto parsed = http::parse_listen_address(o.http);
        if (!parsed) throw Failure(kExitUsage, "--http: " + parsed.error());
        listen = *parsed;
        options.metrics = std::make_shared<observe::Registry>();
        options.listeners.push_back(history);
    }
    // Spans go to a collector: --otlp, else OTEL_EXPORTER_OTLP_ENDPOINT (OTEL_SERVICE_NAME names the service).
    std::shared_ptr<observe::BatchExporter> spans;
    if (auto otlp = observe::OtlpOptions::from_env(); !o.otlp.empty() || std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) {
        if (!o.otlp.empty()) otlp.endpoint = o.otlp;
        if (otlp.endpoint.rfind("http://", 0) != 0 && otlp.endpoint.rfind("https://", 0) != 0)
            throw Failure(kExitUsage, "--otlp: '" + otlp.endpoint + "' is not an http:// or https:// URL");
        spans = observe::make_otlp_exporter(otlp);
        options.tracer = std::make_shared<observe::Tracer>(spans);
    }

    // Before any thread exists, so that every thread inherits the mask and
    // the signals wait for sigtimedwait() below.
    const sigset_t signals = block_daemon_signals();

    // As root: cron's rule, whoever may edit the file may run commands as root.
    if (auto why = daemon::unsafe_schedule_file(o.path)) throw Failure(kExitNoResult, *why);
    schedule_file::ScheduleFile file = load_schedule(o.path, ctx);
    // Cluster mode: --store wins over the file's "store".
    if (!o.store.empty() || !file.store.empty()) {
        if (listen) throw Failure(kExitUsage, "--http is not available in cluster mode (--store / \"store\") yet");
        ClusterRunOptions c;
        c.path = o.path;
        c.url = o.store.empty() ? file.store : o.store;
        c.schema = o.schema;
        c.node = o.node;
        c.lease = duration_option("--lease", o.lease);
        c.drain = drain;
        c.kill_grace = options.kill_grace;
        c.log_format = options.log_format;
        c.bounded = bounded;
        c.run_for = run_for;
        c.run_for_text = o.run_for;
        return run_cluster(c, std::move(file), signals, ctx);
    }
    const std::shared_ptr<observe::Registry> registry = options.metrics;
    auto created = daemon::Daemon::create(std::move(file), std::move(options));
    if (!created) {
        for (const auto& problem : created.error()) ctx.err << problem.to_string() << '\n';
        throw Failure(kExitNoResult, o.path + ": cannot start");
    }
    daemon::Daemon& daemon = **created;
    // The dashboard before the server: destroyed after it, so no request the
    // server still serves reaches a dashboard that is gone.
    std::unique_ptr<http::Dashboard> dashboard;
    std::unique_ptr<http::Server> server;
    if (listen) {
        server = std::make_unique<http::Server>(*listen);
        server->metrics(registry);
        dashboard = std::make_unique<http::Dashboard>(daemon.scheduler(), history, dashboard_options(o));
        try {
            dashboard->mount(*server);
        } catch (const std::invalid_argument& e) {
            throw Failure(kExitUsage, std::string("--http: ") + e.what() + " (--http-token or TXFLOW_HTTP_TOKEN)");
        }
        auto started = server->start();
        if (!started) throw Failure(kExitNoResult, "--http: " + started.error());
        const std::string base = "http://" + listen->host + ":" + std::to_string(server->port());
        daemon.log("serving metrics on " + base + "/metrics");
        daemon.log("serving the dashboard on " + base + "/" + (o.read_only ? " (read-only)" : ""));
    }
    daemon.start();

    const auto deadline = std::chrono::steady_clock::now() + run_for;
    while (true) {
        const int sig = wait_signal(signals, bounded ? &deadline : nullptr);
        if (sig == 0) {
            daemon.log("--for " + o.run_for + " elapsed");
            break;
        }
        if (sig == SIGHUP) {
            daemon.log("SIGHUP: reloading " + o.path);
            (void)daemon.reload(o.path);
            continue;
        }
        daemon.log(sig == SIGINT ? "SIGINT: shutting down" : "SIGTERM: shutting down");
        break;
    }
    daemon.stop(drain);
    if (spans && !spans->flush(std::chrono::seconds(5)))
        ctx.err << "--otlp: some spans were not exported before the timeout\n";
    return kExitOk;
}

}  // namespace

void add_run_commands(CLI::App& app, Context& ctx) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* run = app.add_subcommand("run", "Run a JSON schedule file: the txflow daemon");
    run->add_option("FILE", options->path, "The schedule file (docs/schedule-format.md)")->required();
    run->add_option("--for", options->run_for, "Stop (and drain) after this long, e.g. 15s; default: until a signal")
        ->type_name("DURATION");
    run->add_option("--log-format", options->log_format,
                    "Log as human text or JSON lines (default: the file's log.format)")
        ->check(CLI::IsMember({"text", "json"}))
        ->type_name("FORMAT");
    run->add_option("--drain", options->drain,
                    "On stop, how long running commands may finish before they are sent SIGTERM")
        ->type_name("DURATION")
        ->capture_default_str();
    run->add_option("--kill-grace", options->kill_grace,
                    "How long a command has after SIGTERM (timeout, stop) before SIGKILL")
        ->type_name("DURATION")
        ->capture_default_str();
    run->add_option(
           "--http", options->http,
           "Serve GET /metrics (Prometheus text format), the dashboard (/) and its API (/api/v1/) on this address, "
           "e.g. 127.0.0.1:8080")
        ->type_name("HOST:PORT");
    run->add_option("--http-token", options->http_token,
                    "Require this bearer token for the dashboard and API (default: $TXFLOW_HTTP_TOKEN; required "
                    "beyond loopback)")
        ->type_name("TOKEN");
    run->add_flag("--read-only", options->read_only,
                  "Dashboard: hide and refuse the actions (pause, trigger, retry...)");
    run->add_option("--otlp", options->otlp,
                    "Export a span per run to this OpenTelemetry collector (OTLP/HTTP JSON, POST /v1/traces), "
                    "e.g. http://127.0.0.1:4318; default: OTEL_EXPORTER_OTLP_ENDPOINT if set")
        ->type_name("URL");
    run->add_option("--store", options->store,
                    "Run as a member of the cluster on this PostgreSQL database (wins over the file's \"store\"; "
                    "docs/cluster.md)")
        ->type_name("URL");
    run->add_option("--schema", options->schema, "Cluster mode: the schema holding txflow's tables")
        ->type_name("NAME")
        ->capture_default_str();
    run->add_option("--node", options->node, "Cluster mode: this node's name (default: HOST-PID)")->type_name("NAME");
    run->add_option("--lease", options->lease,
                    "Cluster mode: how long a claimed job (and the cron leadership) is this node's without a "
                    "heartbeat")
        ->type_name("DURATION")
        ->capture_default_str();
    run->footer(
        "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads FILE (an invalid file is logged and ignored).\n"
        "Logs go to stdout. Exit status: 0 stopped, 1 invalid file or state directory, 2 bad command line, 4 the\n"
        "cluster's database cannot be reached (cluster mode).");
    run->callback([&ctx, options] { ctx.action = [&ctx, options] { return run_daemon(*options, ctx); }; });
}

}  // namespace txflow::tool
