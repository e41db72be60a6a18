#pragma once
/// @file
/// txflow's tables in PostgreSQL: versioned migrations and their status
/// (`txflow db migrate`, `txflow db status`).
///
/// Each migration has a number; a schema's txflow_schema_version table lists
/// the ones applied. pg_migrate() applies the missing ones in order, in one
/// transaction under a transaction-level advisory lock keyed by the schema
/// name, so concurrent migrators (several processes starting at once) apply
/// each migration exactly once and the others find it done. A schema migrated
/// by a NEWER txflow (a version this build does not know) is refused by every
/// PostgreSQL part of txflow: old code must not write to tables it does not
/// understand.

#include <cstdint>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/store/pg_options.hpp"
#include "txflow/store/store.hpp"

namespace txflow::store {

/// The newest migration this build knows.
[[nodiscard]] TXFLOW_EXPORT std::uint32_t pg_schema_latest() noexcept;

/// The migration state of a schema (pg_schema_status()).
struct TXFLOW_EXPORT PgSchemaStatus {
    bool schema_exists = false;          ///< false: nothing created yet (every migration pending)
    std::uint32_t version = 0;           ///< the highest applied migration (0: none)
    std::uint32_t latest = 0;            ///< pg_schema_latest()
    std::vector<std::uint32_t> pending;  ///< known migrations not applied yet, in order
    /// The schema was migrated by a newer txflow: this build must not touch it.
    [[nodiscard]] bool newer_than_this_build() const { return version > latest; }
    /// Every migration this build knows is applied.
    [[nodiscard]] bool up_to_date() const { return version == latest; }
};

/// Reads the state of options.schema (changes nothing). Fails on a bad
/// schema name or when the database cannot be reached.
TXFLOW_EXPORT StoreResult<PgSchemaStatus> pg_schema_status(const PgOptions& options);

/// Applies the pending migrations and returns the status after them. Fails
/// (Code::invalid) on a schema from a newer txflow, changing nothing.
TXFLOW_EXPORT StoreResult<PgSchemaStatus> pg_migrate(const PgOptions& options);

}  // namespace txflow::store
