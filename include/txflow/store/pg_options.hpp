#pragma once
/// @file
/// Where a PostgreSQL-backed part of txflow (PgStore, PgQueue, the migrations)
/// finds its database: a libpq connection string and the schema that holds
/// txflow's tables, so two applications can share one database.

#include <chrono>
#include <string>
#include "txflow/core/export.hpp"

/// libpq's connection type, declared here so that public headers need not
/// include <libpq-fe.h> (transactional enqueue takes the caller's PGconn*).
struct pg_conn;
/// libpq's connection handle: the caller's connection that PgQueue::enqueue_in() writes with.
using PGconn = pg_conn;

namespace txflow::store {

/// How to reach PostgreSQL and which schema holds txflow's tables.
struct TXFLOW_EXPORT PgOptions {
    /// "postgresql://user@host:port/db?..." or "host=... dbname=...": anything
    /// libpq's PQconnectdb accepts. Settings in it win over the ones below.
    std::string url;
    /// Lower-case letters, digits and '_', starting with a letter or '_', at most
    /// 63 characters; created by the migrations when missing.
    std::string schema = "txflow";
    /// libpq's connect_timeout: how long a connect may take before it fails
    /// (an unreachable host would otherwise wait for the OS's TCP timeout).
    std::chrono::seconds connect_timeout{5};
    /// PgStore::open and PgQueue::open apply pending migrations first (see
    /// pg_schema.hpp); false: they refuse a schema that is not up to date.
    bool migrate = true;
};

}  // namespace txflow::store
