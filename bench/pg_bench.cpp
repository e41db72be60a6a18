// pg_bench: the cluster queue on a real PostgreSQL (issue 17).
//
//   bench/pg_bench --store postgresql://...   (or TXFLOW_PG_URL)
//
// Migrates a schema of its own (txflow_pg_bench_<pid>, dropped at the end) and
// prints, one per line, `name value`:
//   pg_enqueue_jobs_per_s      enqueue_batch, batches of --batch jobs
//   pg_throughput_jobs_per_s   those jobs (no-op), claimed and completed by
//                              two worker processes (fork), fsync as the server has it
//   pg_add_to_start_p50_ms     jobs added one at a time to the idle workers:
//   pg_add_to_start_p99_ms     enqueue call to handler start
// Details (server settings, counts) go to stderr.

#include <libpq-fe.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "txflow/cluster/worker.hpp"
#include "txflow/store/pg_queue.hpp"
#include "txflow/store/pg_schema.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Args {
    std::string url;
    int jobs = 100000;
    int batch = 10000;
    int samples = 300;
    unsigned threads = 2;  // handler threads per worker process
};

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "pg_bench: %s\n", message.c_str());
    std::exit(1);
}

Args parse(int argc, char** argv) {
    Args a;
    if (const char* env = std::getenv("TXFLOW_PG_URL")) a.url = env;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--store") a.url = value();
        else if (arg == "--jobs") a.jobs = std::stoi(value());
        else if (arg == "--batch") a.batch = std::stoi(value());
        else if (arg == "--samples") a.samples = std::stoi(value());
        else if (arg == "--threads") a.threads = static_cast<unsigned>(std::stoul(value()));
        else die("unknown argument " + arg + " (usage: pg_bench --store URL [--jobs N] [--batch N] [--samples N])");
    }
    if (a.url.empty()) die("no database: pass --store postgresql://... or set TXFLOW_PG_URL");
    if (a.jobs < 1 || a.batch < 1 || a.samples < 1 || a.threads < 1) die("counts must be at least 1");
    return a;
}

std::string query(PGconn* conn, const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string message = PQresultErrorMessage(r);
        PQclear(r);
        die(sql + ": " + message);
    }
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// A worker process: waits for the go byte, runs a Worker until the stop
// byte, reports each "latency" job's enqueue-to-start time on `latencies`.
[[noreturn]] void worker_process(const Args& args, const txflow::store::PgOptions& pg, int go, int stop,
                                 int latencies) {
    char byte = 0;
    if (::read(go, &byte, 1) != 1) std::_Exit(2);
    txflow::cluster::WorkerOptions o;
    o.pg = pg;
    o.concurrency = args.threads;
    o.claim_batch = 1000;
    o.complete_batch = 2000;
    // stdout carries the figures only.
    o.logger = std::make_shared<spdlog::logger>("pg_bench", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    o.logger->set_level(spdlog::level::warn);
    txflow::cluster::Worker worker(o);
    worker.handle("noop", [](txflow::cluster::Job&) {});
    worker.handle("latency", [latencies](txflow::cluster::Job& job) {
        const std::int64_t started = now_ns();
        const std::int64_t waited = started - std::stoll(job.payload());
        if (::write(latencies, &waited, sizeof waited) != sizeof waited) std::_Exit(3);
    });
    if (auto ok = worker.start(); !ok) {
        std::fprintf(stderr, "pg_bench worker: %s\n", ok.error().message.c_str());
        std::_Exit(4);
    }
    if (::read(stop, &byte, 1) < 0) std::_Exit(5);
    worker.stop(5s);
    const auto s = worker.stats();
    std::fprintf(stderr, "pg_bench worker %d: claimed %llu, completed %llu, fenced off %llu\n",
                 static_cast<int>(::getpid()), static_cast<unsigned long long>(s.claimed),
                 static_cast<unsigned long long>(s.completed), static_cast<unsigned long long>(s.fenced_off));
    std::_Exit(0);
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    txflow::store::PgOptions pg;
    pg.url = args.url;
    pg.schema = "txflow_pg_bench_" + std::to_string(::getpid());
    if (auto m = txflow::store::pg_migrate(pg); !m) die(m.error().message);
    PGconn* raw = PQconnectdb(args.url.c_str());
    if (PQstatus(raw) != CONNECTION_OK) die(PQerrorMessage(raw));
    PQsetNoticeProcessor(
        raw, [](void*, const char*) {}, nullptr);
    std::fprintf(stderr, "pg_bench: schema %s, fsync %s, synchronous_commit %s, %d jobs, batches of %d\n",
                 pg.schema.c_str(), query(raw, "SHOW fsync").c_str(), query(raw, "SHOW synchronous_commit").c_str(),
                 args.jobs, args.batch);
    const std::string jobs_table = "\"" + pg.schema + "\".txflow_jobs";

    // 1. Enqueue, batched.
    auto queue = txflow::store::PgQueue::open(pg);
    if (!queue) die(queue.error().message);
    std::vector<txflow::store::NewJob> batch(static_cast<std::size_t>(args.batch));
    for (auto& j : batch) j.kind = "noop";
    const auto enqueue_start = Clock::now();
    for (int done = 0; done < args.jobs; done += args.batch) {
        const auto n = static_cast<std::size_t>(std::min(args.batch, args.jobs - done));
        if (auto ids = (*queue)->enqueue_batch(std::span(batch.data(), n)); !ids) die(ids.error().message);
    }
    const double enqueue_s = std::chrono::duration<double>(Clock::now() - enqueue_start).count();

    // 2. Two worker processes claim and complete them.
    int go[2], stop[2], lat[2];
    if (::pipe(go) != 0 || ::pipe(stop) != 0 || ::pipe(lat) != 0) die("pipe failed");
    std::vector<pid_t> children;
    for (int i = 0; i < 2; ++i) {
        const pid_t pid = ::fork();
        if (pid < 0) die("fork failed");
        if (pid == 0) {
            ::close(go[1]);
            ::close(stop[1]);
            ::close(lat[0]);
            worker_process(args, pg, go[0], stop[0], lat[1]);
        }
        children.push_back(pid);
    }
    ::close(go[0]);
    ::close(stop[0]);
    ::close(lat[1]);
    const std::string unfinished = "SELECT EXISTS (SELECT 1 FROM " + jobs_table +
                                   " WHERE state = 'available') OR "
                                   "EXISTS (SELECT 1 FROM " +
                                   jobs_table + " WHERE state = 'running')";
    const auto run_start = Clock::now();
    if (::write(go[1], "gg", 2) != 2) die("write failed");
    while (query(raw, unfinished) == "t") std::this_thread::sleep_for(10ms);
    const double run_s = std::chrono::duration<double>(Clock::now() - run_start).count();
    const auto completed = query(raw, "SELECT count(*) FROM " + jobs_table + " WHERE state = 'completed'");

    // 3. One job at a time to the idle workers.
    std::this_thread::sleep_for(200ms);
    std::vector<double> waits;
    std::vector<double> commits;       // the enqueue call alone: INSERT and COMMIT (a WAL flush)
    std::vector<double> after_commit;  // from the COMMIT's return to the handler's start
    for (int i = 0; i < args.samples; ++i) {
        const auto sent = now_ns();
        if (auto e = (*queue)->enqueue("latency", std::to_string(sent)); !e) die(e.error().message);
        commits.push_back(static_cast<double>(now_ns() - sent) / 1e6);
        std::int64_t waited = 0;
        if (::read(lat[0], &waited, sizeof waited) != sizeof waited) die("a worker process died");
        waits.push_back(static_cast<double>(waited) / 1e6);
        after_commit.push_back(waits.back() - commits.back());
        std::this_thread::sleep_for(5ms);  // idle again
    }

    ::close(stop[1]);  // EOF: the workers stop
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::fprintf(stderr, "pg_bench: worker %d failed\n", pid);
    }
    std::fprintf(stderr, "pg_bench: %s of %d completed in %.3f s\n", completed.c_str(), args.jobs, run_s);
    std::fprintf(stderr, "pg_bench: enqueue call (INSERT + COMMIT) p50 %.2f ms, p99 %.2f ms\n",
                 percentile(commits, 0.5), percentile(commits, 0.99));
    std::fprintf(stderr, "pg_bench: commit to handler start p50 %.2f ms, p99 %.2f ms\n", percentile(after_commit, 0.5),
                 percentile(after_commit, 0.99));
    query(raw, "DROP SCHEMA \"" + pg.schema + "\" CASCADE");
    PQfinish(raw);

    std::printf("pg_enqueue_jobs_per_s %.0f\n", args.jobs / enqueue_s);
    std::printf("pg_throughput_jobs_per_s %.0f\n", args.jobs / run_s);
    std::printf("pg_add_to_start_p50_ms %.2f\n", percentile(waits, 0.50));
    std::printf("pg_add_to_start_p99_ms %.2f\n", percentile(waits, 0.99));
    return 0;
}
