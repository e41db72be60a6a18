#pragma once
// The one place txflow talks to libpq: an owned connection, parameters,
// results, and libpq's errors turned into StoreError with where and why.

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/store/pg_options.hpp"
#include "txflow/store/store.hpp"

namespace txflow::store::pg {

// Query parameters: text by default, binary for bytes (bytea) so payloads
// need no escaping.
// A duration as a query parameter: whole milliseconds, never negative (the
// statements multiply it by interval '1 millisecond').
[[nodiscard]] std::string millis_text(std::chrono::milliseconds d);

class Params {
public:
    Params& text(std::string value);
    Params& binary(std::string value);
    Params& null();
    [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
    [[nodiscard]] std::vector<const char*> pointers() const;
    [[nodiscard]] std::vector<int> lengths() const;
    [[nodiscard]] const std::vector<int>& formats() const { return formats_; }

private:
    std::vector<std::optional<std::string>> values_;
    std::vector<int> formats_;
};

// A successful result (PGRES_COMMAND_OK or PGRES_TUPLES_OK). Values are text.
class Rows {
public:
    explicit Rows(PGresult* result) : result_(result, &PQclear) {}
    [[nodiscard]] int size() const { return PQntuples(result_.get()); }
    [[nodiscard]] bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
    [[nodiscard]] std::string_view text(int row, int col) const;
    [[nodiscard]] std::int64_t int64(int row, int col) const;
    // A bytea column, in text form ("\x..." hex) or binary.
    [[nodiscard]] std::string bytes(int row, int col) const;
    [[nodiscard]] std::uint64_t affected() const;  // rows an INSERT/UPDATE/DELETE touched

private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// Runs `sql` on any connection (also a caller's, for transactional enqueue).
// `what` names the operation in the error: "PostgreSQL: <what>: <reason>".
StoreResult<Rows> exec(PGconn* conn, std::string_view what, const std::string& sql, const Params& params = {});

class Connection {
public:
    // Connects with connect_timeout and TCP keepalives (a dead server is found
    // in seconds, not the OS's hours); fails with the host, port and libpq's reason.
    static StoreResult<Connection> open(const PgOptions& options);
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&&) noexcept = default;
    ~Connection() = default;

    [[nodiscard]] PGconn* get() const { return conn_.get(); }
    [[nodiscard]] bool is_open() const { return conn_ != nullptr; }
    // "127.0.0.1:5432/postgres": for messages (never the password).
    [[nodiscard]] const std::string& where() const { return where_; }
    void close() { conn_.reset(); }

    StoreResult<Rows> exec(std::string_view what, const std::string& sql, const Params& params = {}) const {
        return pg::exec(conn_.get(), what, sql, params);
    }

private:
    Connection(PGconn* conn, std::string where) : conn_(conn, &PQfinish), where_(std::move(where)) {}
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
    std::string where_;
};

// Runs `body` between BEGIN and COMMIT on `conn`, ROLLBACK when it fails.
template <class F>
StoreResult<Ok> in_transaction(const Connection& conn, std::string_view what, F&& body) {
    if (auto r = conn.exec(what, "BEGIN"); !r) return unexpected(std::move(r.error()));
    StoreResult<Ok> result = body();
    if (!result) {
        (void)conn.exec(what, "ROLLBACK");  // the first error is the one to report
        return result;
    }
    if (auto r = conn.exec(what, "COMMIT"); !r) return unexpected(std::move(r.error()));
    return Ok{};
}

// A schema name txflow accepts: [a-z_][a-z0-9_]{0,62} (no quoting surprises).
[[nodiscard]] bool valid_schema_name(std::string_view schema);
StoreResult<Ok> check_schema_name(std::string_view schema);
// "<schema>"."<table>"
[[nodiscard]] std::string table(std::string_view schema, std::string_view name);

}  // namespace txflow::store::pg
