#pragma once
/// @file
/// The Store contract (txflow/store/store.hpp) in PostgreSQL: records in
/// `<schema>.txflow_records`, the snapshot in `<schema>.txflow_snapshot`.
///
/// submit() assigns the next seq in memory and queues the record; sync()
/// writes everything queued in one transaction (a group commit: one COMMIT per
/// flush, shared by every thread waiting in sync()). One PgStore owns a schema's
/// log at a time: open() takes a session advisory lock and fails while another
/// process holds it. A failed flush is sticky (Code::closed afterwards), as
/// with WalStore: nothing is acted on whose record was refused.
///
///     auto store = txflow::store::PgStore::open({.url = url, .schema = "billing"});
///     if (!store) { ... store.error().message ... }
///     txflow::SchedulerOptions().store(std::move(*store));

#include <memory>
#include "txflow/core/export.hpp"

#include "txflow/store/pg_options.hpp"
#include "txflow/store/store.hpp"

namespace txflow::store {

/// A Store in PostgreSQL: the log and snapshot in a schema's tables, one owner at a time.
class TXFLOW_EXPORT PgStore final : public Store {
public:
    /// Connects, applies pending migrations (pg_migrate) and loads the log's
    /// position. Fails with a message naming the server or the schema.
    static StoreResult<std::unique_ptr<PgStore>> open(const PgOptions& options);
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    [[nodiscard]] std::string_view name() const noexcept override { return "postgresql"; }
    void set_observer(std::shared_ptr<StoreObserver> observer) override;
    StoreResult<Ok> close() override;

    StoreResult<std::uint64_t> submit(std::uint16_t type, std::string_view payload) override;
    StoreResult<Ok> sync(std::uint64_t seq) override;
    StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const Record&)>& visit) override;
    StoreResult<std::optional<Snapshot>> load_snapshot() override;
    StoreResult<Ok> write_snapshot(std::uint64_t seq, std::string_view state) override;
    [[nodiscard]] std::uint64_t last_seq() const override;
    [[nodiscard]] std::uint64_t bytes_since_snapshot() const override;

    struct Impl;

private:
    explicit PgStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::store
