// PgStore: the Store contract on PostgreSQL. Seqs are assigned in memory
// (open() holds the schema's store lock, so this process is the log's only
// writer) and records wait in `pending` until a sync() writes them: the first
// syncing thread takes the whole batch and writes it in one transaction, the
// others wait for it (group commit, one COMMIT per flush).

#include "txflow/store/pg_store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/pg/connection.hpp"
#include "store/pg/migrations.hpp"

namespace txflow::store {

using pg::Connection;
using pg::Params;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kRowsPerInsert = 1000;  // 3 parameters a row, well under libpq's 65535
constexpr int kRowsPerRead = 1000;

StoreError closed_error() {
    return StoreError{StoreError::Code::closed, "PostgreSQL store: closed"};
}

}  // namespace

struct PgStore::Impl {
    PgOptions options;
    std::string records;   // "<schema>".txflow_records
    std::string snapshot;  // "<schema>".txflow_snapshot

    // The connection, for whoever writes, reads or snapshots at the moment.
    std::mutex conn_mutex;
    Connection conn;

    // The log's position; guarded by mutex.
    mutable std::mutex mutex;
    std::condition_variable flushed;
    std::vector<Record> pending;  // submitted, not written yet
    std::uint64_t last_seq = 0;
    std::uint64_t durable_seq = 0;
    std::optional<std::uint64_t> snapshot_seq;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> sizes;  // (seq, bytes) after the snapshot
    std::uint64_t bytes_since_snapshot = 0;
    bool flushing = false;
    bool closed = false;
    std::optional<StoreError> failed;  // sticky: the first flush that failed
    std::shared_ptr<StoreObserver> observer;

    explicit Impl(Connection c) : conn(std::move(c)) {}

    StoreResult<Ok> usable() const {
        if (closed) return unexpected(closed_error());
        if (failed) {
            return unexpected(
                StoreError{StoreError::Code::closed, "PostgreSQL store: an earlier write failed: " + failed->message});
        }
        return Ok{};
    }

    // Writes one batch in one transaction; called by the flushing thread only.
    StoreResult<Ok> write_batch(const std::vector<Record>& batch, FlushStats& stats) {
        const auto start = Clock::now();
        std::lock_guard conn_lock(conn_mutex);
        if (!conn.is_open()) return unexpected(closed_error());
        const std::string what = fmt::format("writing records {}..{}", batch.front().seq, batch.back().seq);
        if (auto r = conn.exec(what, "BEGIN"); !r) return unexpected(std::move(r.error()));
        for (std::size_t first = 0; first < batch.size(); first += kRowsPerInsert) {
            const std::size_t end = std::min(batch.size(), first + kRowsPerInsert);
            std::string sql = "INSERT INTO " + records + " (seq, type, payload) VALUES ";
            Params params;
            for (std::size_t i = first; i < end; ++i) {
                const int p = static_cast<int>((i - first) * 3);
                sql += fmt::format("{}(${}, ${}, ${})", i == first ? "" : ", ", p + 1, p + 2, p + 3);
                params.text(std::to_string(batch[i].seq)).text(std::to_string(batch[i].type)).binary(batch[i].payload);
                stats.bytes += batch[i].payload.size();
            }
            if (auto r = conn.exec(what, sql, params); !r) {
                (void)conn.exec(what, "ROLLBACK");
                return unexpected(std::move(r.error()));
            }
        }
        const auto commit_start = Clock::now();
        if (auto r = conn.exec(what, "COMMIT"); !r) return unexpected(std::move(r.error()));
        const auto end = Clock::now();
        stats.records = batch.size();
        stats.durable = true;
        stats.sync_duration = end - commit_start;
        stats.duration = end - start;
        return Ok{};
    }

    // Returns once every record up to seq is committed (or the store failed).
    StoreResult<Ok> flush_to(std::unique_lock<std::mutex>& lock, std::uint64_t seq) {
        while (durable_seq < seq) {
            if (auto ok = usable(); !ok) return ok;
            if (flushing) {
                flushed.wait(lock);
                continue;
            }
            flushing = true;
            std::vector<Record> batch;
            batch.swap(pending);
            auto obs = observer;
            lock.unlock();
            FlushStats stats;
            auto written = write_batch(batch, stats);
            if (written && obs) obs->on_flush(stats);
            lock.lock();
            flushing = false;
            flushed.notify_all();
            if (!written) {
                // This caller gets the reason; everyone after it Code::closed.
                if (!failed) failed = written.error();
                return unexpected(std::move(written.error()));
            }
            durable_seq = batch.back().seq;
        }
        return Ok{};
    }

    StoreResult<Ok> load() {
        std::lock_guard conn_lock(conn_mutex);
        auto snap = conn.exec("loading the snapshot's seq", "SELECT seq FROM " + snapshot);
        if (!snap) return unexpected(std::move(snap.error()));
        if (snap->size() > 0) snapshot_seq = static_cast<std::uint64_t>(snap->int64(0, 0));
        auto rows = conn.exec("loading the record log's position",
                              "SELECT seq, length(payload) FROM " + records + " WHERE seq > $1 ORDER BY seq",
                              Params().text(std::to_string(snapshot_seq.value_or(0))));
        if (!rows) return unexpected(std::move(rows.error()));
        last_seq = snapshot_seq.value_or(0);
        for (int i = 0; i < rows->size(); ++i) {
            const auto seq = static_cast<std::uint64_t>(rows->int64(i, 0));
            const auto bytes = static_cast<std::uint64_t>(rows->int64(i, 1));
            sizes.emplace_back(seq, bytes);
            bytes_since_snapshot += bytes;
            last_seq = seq;
        }
        durable_seq = last_seq;
        return Ok{};
    }
};

StoreResult<std::unique_ptr<PgStore>> PgStore::open(const PgOptions& options) {
    if (auto ok = pg::check_schema_name(options.schema); !ok) return unexpected(std::move(ok.error()));
    auto conn = Connection::open(options);
    if (!conn) return unexpected(std::move(conn.error()));
    if (auto ok = pg::ensure_schema(*conn, options); !ok) return unexpected(std::move(ok.error()));
    // A session lock: held while this connection lives, gone with it.
    auto locked = conn->exec("locking the record log", "SELECT pg_try_advisory_lock($1, hashtext($2))",
                             Params().text(std::to_string(pg::kStoreLockClass)).text(options.schema));
    if (!locked) return unexpected(std::move(locked.error()));
    if (locked->text(0, 0) != "t") {
        return unexpected(StoreError{
            StoreError::Code::io,
            fmt::format("PostgreSQL: the record log of schema \"{}\" on {} is in use by another PgStore (another "
                        "process, or one not closed)",
                        options.schema, conn->where())});
    }
    auto impl = std::make_unique<Impl>(std::move(*conn));
    impl->options = options;
    impl->records = pg::table(options.schema, "txflow_records");
    impl->snapshot = pg::table(options.schema, "txflow_snapshot");
    if (auto ok = impl->load(); !ok) return unexpected(std::move(ok.error()));
    return std::unique_ptr<PgStore>(new PgStore(std::move(impl)));
}

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgStore::~PgStore() {
    (void)close();
}

void PgStore::set_observer(std::shared_ptr<StoreObserver> observer) {
    std::lock_guard lock(impl_->mutex);
    impl_->observer = std::move(observer);
}

StoreResult<Ok> PgStore::close() {
    std::unique_lock lock(impl_->mutex);
    if (impl_->closed) return Ok{};
    auto flushed = impl_->flush_to(lock, impl_->last_seq);
    impl_->closed = true;
    lock.unlock();
    std::lock_guard conn_lock(impl_->conn_mutex);
    impl_->conn.close();  // releases the store lock too
    return flushed;
}

StoreResult<std::uint64_t> PgStore::submit(std::uint16_t type, std::string_view payload) {
    std::lock_guard lock(impl_->mutex);
    if (auto ok = impl_->usable(); !ok) return unexpected(std::move(ok.error()));
    const auto seq = ++impl_->last_seq;
    impl_->pending.push_back(Record{seq, type, std::string(payload)});
    impl_->sizes.emplace_back(seq, payload.size());
    impl_->bytes_since_snapshot += payload.size();
    return seq;
}

StoreResult<Ok> PgStore::sync(std::uint64_t seq) {
    std::unique_lock lock(impl_->mutex);
    if (seq > impl_->last_seq) {
        return unexpected(StoreError{StoreError::Code::invalid,
                                     fmt::format("sync({}) is beyond the last record {}", seq, impl_->last_seq)});
    }
    return impl_->flush_to(lock, seq);
}

StoreResult<Ok> PgStore::read(std::uint64_t after, const std::function<bool(const Record&)>& visit) {
    std::uint64_t until = 0;
    {
        std::unique_lock lock(impl_->mutex);
        if (impl_->snapshot_seq && after < *impl_->snapshot_seq) {
            return unexpected(StoreError{
                StoreError::Code::invalid,
                fmt::format("read after seq {}: records {} to {} were dropped by the snapshot at seq {}; read from "
                            "the snapshot's seq",
                            after, after + 1, *impl_->snapshot_seq, *impl_->snapshot_seq)});
        }
        until = impl_->last_seq;  // what exists now; records a visitor adds are not visited
        if (auto ok = impl_->flush_to(lock, until); !ok) return ok;
    }
    // Page by page, the connection free while the visitor runs (it may append).
    std::uint64_t from = after;
    while (from < until) {
        std::vector<Record> page;
        {
            std::lock_guard conn_lock(impl_->conn_mutex);
            auto rows =
                impl_->conn.exec("reading records",
                                 "SELECT seq, type, payload FROM " + impl_->records +
                                     " WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT " + std::to_string(kRowsPerRead),
                                 Params().text(std::to_string(from)).text(std::to_string(until)));
            if (!rows) return unexpected(std::move(rows.error()));
            for (int i = 0; i < rows->size(); ++i) {
                page.push_back(Record{static_cast<std::uint64_t>(rows->int64(i, 0)),
                                      static_cast<std::uint16_t>(rows->int64(i, 1)), rows->bytes(i, 2)});
            }
        }
        if (page.empty()) break;
        for (const auto& r : page) {
            if (!visit(r)) return Ok{};
        }
        from = page.back().seq;
    }
    return Ok{};
}

StoreResult<std::optional<Snapshot>> PgStore::load_snapshot() {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->closed) return unexpected(closed_error());
    }
    std::lock_guard conn_lock(impl_->conn_mutex);
    auto rows = impl_->conn.exec("loading the snapshot", "SELECT seq, state FROM " + impl_->snapshot);
    if (!rows) return unexpected(std::move(rows.error()));
    if (rows->size() == 0) return std::optional<Snapshot>{};
    return std::optional<Snapshot>{Snapshot{static_cast<std::uint64_t>(rows->int64(0, 0)), rows->bytes(0, 1)}};
}

StoreResult<Ok> PgStore::write_snapshot(std::uint64_t seq, std::string_view state) {
    {
        std::unique_lock lock(impl_->mutex);
        if (seq > impl_->last_seq) {
            return unexpected(
                StoreError{StoreError::Code::invalid,
                           fmt::format("snapshot at {} is beyond the last record {}", seq, impl_->last_seq)});
        }
        if (impl_->snapshot_seq && seq < *impl_->snapshot_seq) {
            return unexpected(
                StoreError{StoreError::Code::invalid,
                           fmt::format("snapshot at {} is older than the one at {}", seq, *impl_->snapshot_seq)});
        }
        if (auto ok = impl_->flush_to(lock, seq); !ok) return ok;
    }
    {
        // The snapshot and the drop of what it covers commit together.
        std::lock_guard conn_lock(impl_->conn_mutex);
        const auto what = fmt::format("writing the snapshot at seq {}", seq);
        auto done = pg::in_transaction(impl_->conn, what, [&]() -> StoreResult<Ok> {
            auto up = impl_->conn.exec(what,
                                       "INSERT INTO " + impl_->snapshot +
                                           " (id, seq, state) VALUES (true, $1, $2) ON CONFLICT (id) DO UPDATE SET "
                                           "seq = EXCLUDED.seq, state = EXCLUDED.state, written_at = now()",
                                       Params().text(std::to_string(seq)).binary(std::string(state)));
            if (!up) return unexpected(std::move(up.error()));
            auto dropped = impl_->conn.exec(what, "DELETE FROM " + impl_->records + " WHERE seq <= $1",
                                            Params().text(std::to_string(seq)));
            if (!dropped) return unexpected(std::move(dropped.error()));
            return Ok{};
        });
        if (!done) return done;
    }
    std::lock_guard lock(impl_->mutex);
    impl_->snapshot_seq = seq;
    while (!impl_->sizes.empty() && impl_->sizes.front().first <= seq) {
        impl_->bytes_since_snapshot -= impl_->sizes.front().second;
        impl_->sizes.pop_front();
    }
    return Ok{};
}

std::uint64_t PgStore::last_seq() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->last_seq;
}

std::uint64_t PgStore::bytes_since_snapshot() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->bytes_since_snapshot;
}

}  // namespace txflow::store
