// `txflow enqueue --store URL KIND [--payload TEXT] [--unique-key K] [--queue Q] [--priority N]
//                 [--run-at TIME|DURATION] [--max-attempts N] [--count N] [--schema NAME]`
//
// Puts a job into the cluster's queue (store::PgQueue) and prints its id on
// stdout, one line. With --unique-key, a job whose key exists already is not
// inserted: its id is printed and stderr says so. --run-at takes an RFC 3339
// time (2026-12-07T23:00:00Z) or a duration from now (30s, 1h30m). --count N
// enqueues N jobs in one transaction (multi-row inserts) and prints N ids,
// one a line; a unique key then gets the suffix ":<n>" (1-based).
// Exit status: 0 enqueued (or already there), 2 usage (also a malformed URL
// or schema name), 4 the database cannot be reached or failed.

#include "enqueue_command.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "txflow/cron/zone.hpp"
#include "txflow/schedule_file/schedule.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::tool {
namespace {

struct EnqueueCli {
    std::string url;
    std::string schema = "txflow";
    std::string kind;
    std::string payload;
    std::string unique_key;
    std::string queue = "default";
    int priority = 0;
    int max_attempts = 25;
    std::string run_at;
    int count = 1;
};

std::chrono::system_clock::time_point run_at_of(const std::string& text) {
    if (auto at = cron::parse_rfc3339(text)) return *at;
    if (auto d = schedule_file::parse_duration(text)) return std::chrono::system_clock::now() + *d;
    throw Failure(kExitUsage, "--run-at: '" + text +
                                  "' is neither an RFC 3339 time (2026-12-07T23:00:00Z) nor a "
                                  "duration (30s, 1h30m)");
}

[[noreturn]] void fail(const store::StoreError& e) {
    throw Failure(e.code == store::StoreError::Code::invalid ? kExitUsage : kExitDatabase, e.message);
}

int run_enqueue(const EnqueueCli& o, Context& ctx) {
    store::EnqueueOptions options;
    options.queue = o.queue;
    options.priority = static_cast<std::int16_t>(o.priority);
    options.max_attempts = o.max_attempts;
    if (!o.run_at.empty()) options.run_at = run_at_of(o.run_at);
    if (!o.unique_key.empty()) options.unique_key = o.unique_key;
    store::PgOptions pg;
    pg.url = o.url;
    pg.schema = o.schema;
    auto queue = store::PgQueue::open(pg);
    if (!queue) fail(queue.error());
    if (o.count == 1) {
        auto job = (*queue)->enqueue(o.kind, o.payload, options);
        if (!job) fail(job.error());
        ctx.out << job->id << '\n';
        if (!job->inserted) ctx.err << "txflow: a job with unique key '" << o.unique_key << "' exists already\n";
        return kExitOk;
    }
    std::vector<store::NewJob> batch;
    batch.reserve(static_cast<std::size_t>(o.count));
    for (int i = 0; i < o.count; ++i) {
        store::NewJob job{o.kind, o.payload, options};
        if (options.unique_key) job.options.unique_key = *options.unique_key + ":" + std::to_string(i + 1);
        batch.push_back(std::move(job));
    }
    auto ids = (*queue)->enqueue_batch(batch);
    if (!ids) fail(ids.error());
    for (const auto& job : *ids) ctx.out << job.id << '\n';
    return kExitOk;
}

}  // namespace

void add_enqueue_commands(CLI::App& app, Context& ctx) {
    auto o = std::make_shared<EnqueueCli>();
    CLI::App* sub = app.add_subcommand("enqueue", "Put a job into a cluster's queue in PostgreSQL; prints its id");
    sub->add_option("KIND", o->kind, "The job's kind: the name of a job in the members' schedule file")->required();
    sub->add_option("--store", o->url, "The database: postgresql://user@host:port/db (a libpq connection string)")
        ->required()
        ->type_name("URL");
    sub->add_option("--schema", o->schema, "The schema holding txflow's tables")
        ->type_name("NAME")
        ->capture_default_str();
    sub->add_option("--payload", o->payload, "The job's payload (its command sees it as TXFLOW_PAYLOAD), e.g. JSON")
        ->type_name("TEXT");
    sub->add_option("--unique-key", o->unique_key, "At most one job with this key while its row exists")
        ->type_name("KEY");
    sub->add_option("--queue", o->queue, "The queue it waits in")->type_name("NAME")->capture_default_str();
    sub->add_option("--priority", o->priority, "Lower runs first")
        ->check(CLI::Range(-32768, 32767))
        ->capture_default_str();
    sub->add_option("--run-at", o->run_at, "Not before this: an RFC 3339 time or a duration from now")
        ->type_name("TIME|DURATION");
    sub->add_option("--max-attempts", o->max_attempts, "Claims before a failure discards it")
        ->check(CLI::Range(1, 1'000'000))
        ->capture_default_str();
    sub->add_option("--count", o->count, "Enqueue this many such jobs in one transaction (prints every id)")
        ->check(CLI::Range(1, 10'000'000))
        ->capture_default_str();
    sub->footer(
        "Exit status: 0 enqueued (or a job with the unique key exists: its id), 2 usage error, 4 the database cannot "
        "be reached or failed.");
    sub->callback([&ctx, o] { ctx.action = [&ctx, o] { return run_enqueue(*o, ctx); }; });
}

}  // namespace txflow::tool
