// Enqueueing: one job, a batch (one transaction, multi-row inserts, or COPY
// for big batches without unique keys: queue_copy.cpp), and a job
// in the caller's own transaction. A unique key is enforced by a partial
// unique index: INSERT ... ON CONFLICT DO NOTHING, then the existing row's id.

#include <cstdio>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "txflow/observe/trace.hpp"

#include "store/pg/migrations.hpp"
#include "store/pg/queue_copy.hpp"
#include "store/pg/queue_impl.hpp"

namespace txflow::store {

using pg::Params;

namespace {

constexpr std::size_t kJobsPerInsert = 1000;  // 10 parameters a job, under libpq's 65535
constexpr int kParamsPerJob = 10;
constexpr int kUniqueLookups = 3;  // insert-or-find rounds when the holder vanishes in between

// A run_at as seconds since the epoch for to_timestamp(); NULL: now().
void add_run_at(Params& params, const EnqueueOptions& o) {
    if (!o.run_at) {
        params.null();
        return;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(o.run_at->time_since_epoch()).count();
    params.text(fmt::format("{}", static_cast<double>(us) / 1e6));
}

// The trace context to store: a valid traceparent (and its tracestate), else NULLs; an invalid
// one is dropped with a warning, as a W3C receiver ignores a bad header.
void add_trace(Params& params, const EnqueueOptions& o, std::string_view kind) {
    if (o.traceparent.empty()) {
        params.null().null();
        return;
    }
    if (auto parsed = observe::TraceContext::parse(o.traceparent, o.tracestate); !parsed) {
        spdlog::warn("enqueue of a '{}' job: ignored its traceparent: {}", kind, parsed.error());
        params.null().null();
        return;
    }
    params.text(o.traceparent);
    if (o.tracestate.empty()) params.null();
    else params.text(o.tracestate);
}

StoreResult<Ok> check_job(std::string_view kind, const EnqueueOptions& o) {
    if (kind.empty()) return unexpected(StoreError{StoreError::Code::invalid, "enqueue: a job needs a kind"});
    if (o.max_attempts < 1) {
        return unexpected(StoreError{StoreError::Code::invalid,
                                     fmt::format("enqueue: max_attempts must be at least 1, not {}", o.max_attempts)});
    }
    return Ok{};
}

// Inserts one job on `conn` (any connection, in whatever transaction it has).
StoreResult<Enqueued> insert_one(PGconn* conn, const std::string& jobs, std::string_view kind, std::string_view payload,
                                 const EnqueueOptions& o) {
    if (auto ok = check_job(kind, o); !ok) return unexpected(std::move(ok.error()));
    const std::string sql =
        "INSERT INTO " + jobs +
        " (kind, queue, payload, priority, max_attempts, run_at, unique_key, traceparent, tracestate) "
        "VALUES ($1, $2, $3, $4, $5, coalesce(to_timestamp($6::float8), now()), $7, $8, $9) "
        "ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id";
    for (int round = 0; round < kUniqueLookups; ++round) {
        Params params;
        params.text(std::string(kind)).text(o.queue).binary(std::string(payload));
        params.text(std::to_string(o.priority)).text(std::to_string(o.max_attempts));
        add_run_at(params, o);
        if (o.unique_key) params.text(*o.unique_key);
        else params.null();
        add_trace(params, o, kind);
        auto inserted = pg::exec(conn, "enqueueing a job", sql, params);
        if (!inserted) return unexpected(std::move(inserted.error()));
        if (inserted->size() == 1) return Enqueued{inserted->int64(0, 0), true};
        // Another row holds the key (ON CONFLICT waited for its transaction).
        auto found = pg::exec(conn, "enqueueing a job", "SELECT id FROM " + jobs + " WHERE unique_key = $1",
                              Params().text(*o.unique_key));
        if (!found) return unexpected(std::move(found.error()));
        if (found->size() == 1) return Enqueued{found->int64(0, 0), false};
    }
    return unexpected(StoreError{StoreError::Code::io,
                                 fmt::format("enqueue: unique key \"{}\" neither inserted nor found", *o.unique_key)});
}

}  // namespace

StoreResult<std::unique_ptr<PgQueue>> PgQueue::open(const PgOptions& options) {
    if (auto ok = pg::check_schema_name(options.schema); !ok) return unexpected(std::move(ok.error()));
    auto conn = pg::Connection::open(options);
    if (!conn) return unexpected(std::move(conn.error()));
    if (auto ok = pg::ensure_schema(*conn, options); !ok) return unexpected(std::move(ok.error()));
    auto impl = std::make_unique<Impl>(std::move(*conn));
    impl->options = options;
    impl->jobs = pg::table(options.schema, "txflow_jobs");
    return std::unique_ptr<PgQueue>(new PgQueue(std::move(impl)));
}

PgQueue::PgQueue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgQueue::~PgQueue() = default;

const std::string& PgQueue::schema() const {
    return impl_->options.schema;
}

StoreResult<Enqueued> PgQueue::enqueue(std::string_view kind, std::string_view payload, const EnqueueOptions& options) {
    std::lock_guard lock(impl_->mutex);
    return insert_one(impl_->conn.get(), impl_->jobs, kind, payload, options);
}

StoreResult<Enqueued> PgQueue::enqueue_in(PGconn* conn, std::string_view kind, std::string_view payload,
                                          const EnqueueOptions& options) {
    if (conn == nullptr) {
        return unexpected(StoreError{StoreError::Code::invalid, "enqueue_in: no connection (a null PGconn*)"});
    }
    return insert_one(conn, impl_->jobs, kind, payload, options);
}

StoreResult<std::vector<Enqueued>> PgQueue::enqueue_batch(std::span<const NewJob> batch) {
    for (const auto& job : batch) {
        if (auto ok = check_job(job.kind, job.options); !ok) return unexpected(std::move(ok.error()));
    }
    std::vector<Enqueued> out(batch.size());
    if (batch.empty()) return out;
    std::lock_guard lock(impl_->mutex);
    const auto& conn = impl_->conn;
    const std::string what = fmt::format("enqueueing a batch of {} jobs", batch.size());
    auto done = pg::in_transaction(conn, what, [&]() -> StoreResult<Ok> {
        // Ids first, so each row's id is known whatever order RETURNING uses.
        auto ids = conn.exec(what, "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
                             Params().text(impl_->jobs).text(std::to_string(batch.size())));
        if (!ids) return unexpected(std::move(ids.error()));
        for (std::size_t i = 0; i < batch.size(); ++i) out[i].id = ids->int64(static_cast<int>(i), 0);
        if (pg::copy_fits(batch)) {
            for (auto& e : out) e.inserted = true;
            return pg::copy_jobs(conn, what, impl_->jobs, batch, out);
        }

        for (std::size_t first = 0; first < batch.size(); first += kJobsPerInsert) {
            const std::size_t end = std::min(batch.size(), first + kJobsPerInsert);
            std::string sql = "INSERT INTO " + impl_->jobs +
                              " (id, kind, queue, payload, priority, max_attempts, run_at, unique_key, traceparent, "
                              "tracestate) VALUES ";
            Params params;
            for (std::size_t i = first; i < end; ++i) {
                const int p = static_cast<int>(i - first) * kParamsPerJob;
                sql += fmt::format(
                    "{}(${}, ${}, ${}, ${}, ${}, ${}, coalesce(to_timestamp(${}::float8), now()), ${}, ${}, ${})",
                    i == first ? "" : ", ", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8, p + 9, p + 10);
                const auto& job = batch[i];
                params.text(std::to_string(out[i].id)).text(job.kind).text(job.options.queue).binary(job.payload);
                params.text(std::to_string(job.options.priority)).text(std::to_string(job.options.max_attempts));
                add_run_at(params, job.options);
                if (job.options.unique_key) params.text(*job.options.unique_key);
                else params.null();
                add_trace(params, job.options, job.kind);
            }
            sql += " ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id";
            auto inserted = conn.exec(what, sql, params);
            if (!inserted) return unexpected(std::move(inserted.error()));
            std::vector<std::int64_t> ids_inserted;
            for (int r = 0; r < inserted->size(); ++r) ids_inserted.push_back(inserted->int64(r, 0));
            std::sort(ids_inserted.begin(), ids_inserted.end());
            for (std::size_t i = first; i < end; ++i) {
                if (std::binary_search(ids_inserted.begin(), ids_inserted.end(), out[i].id)) {
                    out[i].inserted = true;
                    continue;
                }
                // Its unique key was taken (before, or earlier in this batch).
                auto found = conn.exec(what, "SELECT id FROM " + impl_->jobs + " WHERE unique_key = $1",
                                       Params().text(*batch[i].options.unique_key));
                if (!found) return unexpected(std::move(found.error()));
                if (found->size() != 1) {
                    return unexpected(
                        StoreError{StoreError::Code::io, fmt::format("{}: unique key \"{}\" neither inserted nor found",
                                                                     what, *batch[i].options.unique_key)});
                }
                out[i].id = found->int64(0, 0);
            }
        }
        return Ok{};
    });
    if (!done) return unexpected(std::move(done.error()));
    return out;
}

}  // namespace txflow::store
