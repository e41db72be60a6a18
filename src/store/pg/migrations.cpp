// Versioned migrations in a schema of the caller's choice. Each runs in the
// migrating transaction, under pg_advisory_xact_lock(kMigrationLockClass,
// hashtext(schema)): concurrent migrators queue on the lock and the later ones
// find the work done. The lock is a transaction lock, so a migrator that dies
// mid-way releases it and its half-applied migration rolls back with it.

#include "store/pg/migrations.hpp"

#include <array>

#include <fmt/format.h>

namespace txflow::store::pg {
namespace {

constexpr std::array<Migration, 5> kMigrations{{
    {1, "record log and snapshot (PgStore)",
     R"sql(
CREATE TABLE {schema}.txflow_records (
    seq     bigint  PRIMARY KEY,
    type    integer NOT NULL,
    payload bytea   NOT NULL
);
CREATE TABLE {schema}.txflow_snapshot (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    seq        bigint      NOT NULL,
    state      bytea       NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
    {2, "job queue (PgQueue)",
     R"sql(
CREATE TABLE {schema}.txflow_jobs (
    id           bigserial   PRIMARY KEY,
    kind         text        NOT NULL,
    queue        text        NOT NULL DEFAULT 'default',
    payload      bytea       NOT NULL DEFAULT '',
    priority     smallint    NOT NULL DEFAULT 0,
    state        text        NOT NULL DEFAULT 'available'
                 CHECK (state IN ('available', 'running', 'completed', 'discarded', 'cancelled')),
    attempt      integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL DEFAULT 25 CHECK (max_attempts > 0),
    run_at       timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz,
    unique_key   text,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempted_at timestamptz,
    finished_at  timestamptz
);
CREATE UNIQUE INDEX txflow_jobs_unique_key ON {schema}.txflow_jobs (unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX txflow_jobs_claim ON {schema}.txflow_jobs (queue, priority, run_at, id) WHERE state = 'available';
CREATE INDEX txflow_jobs_lease ON {schema}.txflow_jobs (lease_until) WHERE state = 'running';
)sql"},
    // Every INSERT into the jobs table sends one NOTIFY per statement (also
    // from enqueue_in: delivered only if the caller's transaction commits), so
    // idle cluster workers wake early. The channel is per schema; a schema
    // name over 56 characters shares it with its longer siblings, which only
    // costs them a spurious wake-up.
    {3, "cluster nodes, job owners, retention index, enqueue notifications (cluster::Worker)",
     R"sql(
CREATE TABLE {schema}.txflow_nodes (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL,
    host         text        NOT NULL,
    pid          integer     NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX txflow_nodes_heartbeat ON {schema}.txflow_nodes (heartbeat_at);
ALTER TABLE {schema}.txflow_jobs ADD COLUMN node_id bigint;
CREATE INDEX txflow_jobs_finished ON {schema}.txflow_jobs (state, finished_at)
    WHERE state IN ('completed', 'discarded', 'cancelled');
CREATE FUNCTION {schema}.txflow_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('txflow:' || left(TG_TABLE_SCHEMA, 56), '');
    RETURN NULL;
END $$;
CREATE TRIGGER txflow_jobs_notify AFTER INSERT ON {schema}.txflow_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.txflow_jobs_notify();
)sql"},
    {4, "cron leader lease and cron fires (cluster::CronLeader)",
     R"sql(
CREATE TABLE {schema}.txflow_leader (
    name        text        PRIMARY KEY,
    node        text        NOT NULL,
    epoch       bigint      NOT NULL CHECK (epoch > 0),
    lease_until timestamptz NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {schema}.txflow_cron_schedules (
    schedule        text        PRIMARY KEY,
    expression      text        NOT NULL,
    zone            text        NOT NULL,
    since           timestamptz NOT NULL,
    last_fire       timestamptz,
    misfired        bigint      NOT NULL DEFAULT 0,
    last_misfire_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {schema}.txflow_cron_fires (
    schedule    text        NOT NULL,
    fire_at     timestamptz NOT NULL,
    job_id      bigint,
    leader_node text        NOT NULL,
    epoch       bigint      NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule, fire_at)
);
CREATE INDEX txflow_cron_fires_inserted ON {schema}.txflow_cron_fires (inserted_at);
)sql"},
    // #18: the W3C trace context a job was enqueued with, handed to the worker that claims it.
    {5, "trace context of enqueued jobs (EnqueueOptions::traceparent)",
     R"sql(
ALTER TABLE {schema}.txflow_jobs ADD COLUMN traceparent text, ADD COLUMN tracestate text;
)sql"},
}};

std::string with_schema(const char* sql, const std::string& schema) {
    return fmt::format(fmt::runtime(std::string(sql)), fmt::arg("schema", fmt::format("\"{}\"", schema)));
}

StoreResult<PgSchemaStatus> read_status(const Connection& conn, const std::string& schema) {
    PgSchemaStatus status;
    status.latest = pg_schema_latest();
    auto exists = conn.exec("reading the schema's version",
                            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1), "
                            "to_regclass($2) IS NOT NULL",
                            Params().text(schema).text(table(schema, "txflow_schema_version")));
    if (!exists) return unexpected(std::move(exists.error()));
    status.schema_exists = exists->text(0, 0) == "t";
    if (exists->text(0, 1) == "t") {
        auto version = conn.exec("reading the schema's version",
                                 "SELECT coalesce(max(version), 0) FROM " + table(schema, "txflow_schema_version"));
        if (!version) return unexpected(std::move(version.error()));
        status.version = static_cast<std::uint32_t>(version->int64(0, 0));
    }
    for (const auto& m : kMigrations) {
        if (m.version > status.version) status.pending.push_back(m.version);
    }
    return status;
}

StoreError newer_schema(const std::string& schema, const PgSchemaStatus& status) {
    return StoreError{StoreError::Code::invalid,
                      fmt::format("PostgreSQL: schema \"{}\" is at version {}, newer than this txflow knows ({}): a "
                                  "newer txflow migrated it; upgrade txflow (nothing was changed)",
                                  schema, status.version, status.latest)};
}

}  // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

StoreResult<PgSchemaStatus> schema_status(const Connection& conn, const std::string& schema) {
    if (auto ok = check_schema_name(schema); !ok) return unexpected(std::move(ok.error()));
    return read_status(conn, schema);
}

StoreResult<PgSchemaStatus> migrate(const Connection& conn, const std::string& schema) {
    if (auto ok = check_schema_name(schema); !ok) return unexpected(std::move(ok.error()));
    const std::string what = fmt::format("migrating schema \"{}\"", schema);
    StoreResult<PgSchemaStatus> after = PgSchemaStatus{};
    auto done = in_transaction(conn, what, [&]() -> StoreResult<Ok> {
        auto locked = conn.exec(what, "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                                Params().text(std::to_string(kMigrationLockClass)).text(schema));
        if (!locked) return unexpected(std::move(locked.error()));
        // Under the lock: the schema and the version table appear exactly once.
        auto created = conn.exec(what, fmt::format("CREATE SCHEMA IF NOT EXISTS \"{}\"; "
                                                   "CREATE TABLE IF NOT EXISTS {} ("
                                                   "version integer PRIMARY KEY, "
                                                   "summary text NOT NULL, "
                                                   "applied_at timestamptz NOT NULL DEFAULT now())",
                                                   schema, table(schema, "txflow_schema_version")));
        if (!created) return unexpected(std::move(created.error()));
        auto status = read_status(conn, schema);
        if (!status) return unexpected(std::move(status.error()));
        if (status->newer_than_this_build()) return unexpected(newer_schema(schema, *status));
        for (const auto& m : kMigrations) {
            if (m.version <= status->version) continue;
            const auto step = fmt::format("{}: migration {} ({})", what, m.version, m.summary);
            if (auto r = conn.exec(step, with_schema(m.sql, schema)); !r) return unexpected(std::move(r.error()));
            auto recorded = conn.exec(
                step, "INSERT INTO " + table(schema, "txflow_schema_version") + " (version, summary) VALUES ($1, $2)",
                Params().text(std::to_string(m.version)).text(m.summary));
            if (!recorded) return unexpected(std::move(recorded.error()));
        }
        after = read_status(conn, schema);
        if (!after) return unexpected(after.error());
        return Ok{};
    });
    if (!done) return unexpected(std::move(done.error()));
    return after;
}

StoreResult<Ok> ensure_schema(const Connection& conn, const PgOptions& options) {
    auto status = options.migrate ? migrate(conn, options.schema) : schema_status(conn, options.schema);
    if (!status) return unexpected(std::move(status.error()));
    if (status->newer_than_this_build()) return unexpected(newer_schema(options.schema, *status));
    if (!status->up_to_date()) {
        return unexpected(StoreError{
            StoreError::Code::invalid,
            fmt::format("PostgreSQL: schema \"{}\" is at version {}, this txflow needs {}: run `txflow db migrate`",
                        options.schema, status->version, status->latest)});
    }
    return Ok{};
}

}  // namespace txflow::store::pg

namespace txflow::store {

std::uint32_t pg_schema_latest() noexcept {
    return pg::migrations().back().version;
}

StoreResult<PgSchemaStatus> pg_schema_status(const PgOptions& options) {
    if (auto ok = pg::check_schema_name(options.schema); !ok) return unexpected(std::move(ok.error()));
    auto conn = pg::Connection::open(options);
    if (!conn) return unexpected(std::move(conn.error()));
    return pg::schema_status(*conn, options.schema);
}

StoreResult<PgSchemaStatus> pg_migrate(const PgOptions& options) {
    if (auto ok = pg::check_schema_name(options.schema); !ok) return unexpected(std::move(ok.error()));
    auto conn = pg::Connection::open(options);
    if (!conn) return unexpected(std::move(conn.error()));
    return pg::migrate(*conn, options.schema);
}

}  // namespace txflow::store
