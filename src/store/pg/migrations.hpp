#pragma once
// The migrations, in order, and the schema checks every PostgreSQL part of
// txflow runs on a connection it opened (open()s call ensure_schema).

#include <cstdint>
#include <span>
#include <string>

#include "store/pg/connection.hpp"
#include "txflow/store/pg_schema.hpp"

namespace txflow::store::pg {

struct Migration {
    std::uint32_t version;
    const char* summary;
    // The SQL, with {schema} for the schema name (quoted by the caller).
    const char* sql;
};

std::span<const Migration> migrations();

// Advisory lock keys (class, hashtext(schema)): one for migrating, one for the
// owner of a schema's record log (PgStore).
inline constexpr int kMigrationLockClass = 0x7478;  // "tx"
inline constexpr int kStoreLockClass = 0x7479;

StoreResult<PgSchemaStatus> schema_status(const Connection& conn, const std::string& schema);
StoreResult<PgSchemaStatus> migrate(const Connection& conn, const std::string& schema);
// What open() runs: migrate (options.migrate) or check, then refuse a schema
// that is newer or not up to date.
StoreResult<Ok> ensure_schema(const Connection& conn, const PgOptions& options);

}  // namespace txflow::store::pg
