// `txflow db migrate` and `txflow db status`: txflow's tables in PostgreSQL
// (store/pg_schema.hpp). Both print "key: value" lines:
//
//   txflow db status --store URL [--schema NAME]
//     schema: NAME
//     version: N (this txflow: M)
//     pending: 1, 2              (only when some are)
//     status: up to date | not created | N migration(s) pending | newer than this txflow
//     Exit: 0 up to date; 1 not created, pending migrations, or a schema from
//     a newer txflow; 2 usage (also a malformed URL or schema name); 4 the
//     database cannot be reached or refused a query.
//   txflow db migrate --store URL [--schema NAME]
//     schema: NAME
//     applied: 1, 2, 3, 4 | none (already up to date)
//     version: N
//     Exit: 0 migrated or nothing to do; 1 refused (a schema from a newer
//     txflow: nothing changed); 2 usage; 4 database unreachable or failing.
//     Safe to run from several processes at once (an advisory lock).

#include "db_command.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "txflow/store/pg_schema.hpp"

namespace txflow::tool {
namespace {

struct DbOptions {
    std::string url;
    std::string schema = "txflow";
};

store::PgOptions pg_options(const DbOptions& o) {
    store::PgOptions p;
    p.url = o.url;
    p.schema = o.schema;
    return p;
}

[[noreturn]] void fail(const store::StoreError& e) {
    // Code::invalid: the URL, the schema name, or a newer schema (usage vs refusal).
    if (e.code == store::StoreError::Code::invalid) {
        const bool refused = e.message.find("newer") != std::string::npos;
        throw Failure(refused ? kExitNoResult : kExitUsage, e.message);
    }
    throw Failure(kExitDatabase, e.message);
}

std::string list(const std::vector<std::uint32_t>& versions) {
    return fmt::format("{}", fmt::join(versions, ", "));
}

int run_status(const DbOptions& o, Context& ctx) {
    auto status = store::pg_schema_status(pg_options(o));
    if (!status) fail(status.error());
    std::ostream& out = ctx.out;
    out << "schema: " << o.schema << '\n';
    out << fmt::format("version: {} (this txflow: {})\n", status->version, status->latest);
    if (!status->pending.empty() && !status->newer_than_this_build())
        out << "pending: " << list(status->pending) << '\n';
    if (status->newer_than_this_build()) {
        out << "status: newer than this txflow (upgrade txflow)\n";
        return kExitNoResult;
    }
    if (status->version == 0) {
        out << "status: not created (run `txflow db migrate`)\n";
        return kExitNoResult;
    }
    if (!status->up_to_date()) {
        out << fmt::format("status: {} migration(s) pending (run `txflow db migrate`)\n", status->pending.size());
        return kExitNoResult;
    }
    out << "status: up to date\n";
    return kExitOk;
}

int run_migrate(const DbOptions& o, Context& ctx) {
    auto before = store::pg_schema_status(pg_options(o));
    if (!before) fail(before.error());
    auto after = store::pg_migrate(pg_options(o));
    if (!after) fail(after.error());
    std::vector<std::uint32_t> applied;
    for (auto v : before->pending) {
        if (std::find(after->pending.begin(), after->pending.end(), v) == after->pending.end()) applied.push_back(v);
    }
    std::ostream& out = ctx.out;
    out << "schema: " << o.schema << '\n';
    out << "applied: " << (applied.empty() ? std::string("none (already up to date)") : list(applied)) << '\n';
    out << "version: " << after->version << '\n';
    return kExitOk;
}

void add_db_subcommand(CLI::App& db, Context& ctx, const char* name, const char* description, const char* footer,
                       int (*run)(const DbOptions&, Context&)) {
    auto options = std::make_shared<DbOptions>();
    CLI::App* sub = db.add_subcommand(name, description);
    sub->add_option("--store", options->url, "The database: postgresql://user@host:port/db (a libpq connection string)")
        ->required()
        ->type_name("URL");
    sub->add_option("--schema", options->schema, "The schema holding txflow's tables (default: txflow)")
        ->type_name("NAME");
    sub->footer(footer);
    sub->callback([&ctx, options, run] { ctx.action = [&ctx, options, run] { return run(*options, ctx); }; });
}

}  // namespace

void add_db_commands(CLI::App& app, Context& ctx) {
    CLI::App* db = app.add_subcommand("db", "txflow's schema in PostgreSQL: create or upgrade it, show its version");
    db->require_subcommand(1);
    add_db_subcommand(*db, ctx, "migrate", "Apply the schema's pending migrations (creating the schema if needed)",
                      "Safe to run from several processes at once. Exit status: 0 migrated or nothing to do, 1 refused "
                      "(the schema is from a newer txflow: nothing changed), 2 usage error, 4 the database cannot be "
                      "reached or failed.",
                      run_migrate);
    add_db_subcommand(*db, ctx, "status", "Print the schema's version and pending migrations (changes nothing)",
                      "Exit status: 0 up to date, 1 not created, migrations pending or newer than this txflow, 2 "
                      "usage error, 4 the database cannot be reached or failed.",
                      run_status);
}

}  // namespace txflow::tool
