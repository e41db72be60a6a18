#include "store/pg/connection.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace txflow::store::pg {
namespace {

// libpq's messages end in a newline and may span lines: one line for ours.
std::string one_line(const char* message) {
    std::string out = message ? message : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    for (char& c : out) {
        if (c == '\n') c = ' ';
    }
    return out.empty() ? "no reason given" : out;
}

StoreError io_error(std::string message) {
    return StoreError{StoreError::Code::io, std::move(message)};
}

}  // namespace

Params& Params::text(std::string value) {
    values_.emplace_back(std::move(value));
    formats_.push_back(0);
    return *this;
}

Params& Params::binary(std::string value) {
    values_.emplace_back(std::move(value));
    formats_.push_back(1);
    return *this;
}

Params& Params::null() {
    values_.emplace_back(std::nullopt);
    formats_.push_back(0);
    return *this;
}

std::vector<const char*> Params::pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? v->data() : nullptr);
    return out;
}

std::vector<int> Params::lengths() const {
    std::vector<int> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? static_cast<int>(v->size()) : 0);
    return out;
}

std::string_view Rows::text(int row, int col) const {
    return {PQgetvalue(result_.get(), row, col), static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::int64_t Rows::int64(int row, int col) const {
    const auto s = text(row, col);
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::string Rows::bytes(int row, int col) const {
    if (PQfformat(result_.get(), col) == 1) return std::string(text(row, col));
    std::size_t length = 0;
    unsigned char* raw =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, col)), &length);
    if (raw == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(raw), length);
    PQfreemem(raw);
    return out;
}

std::uint64_t Rows::affected() const {
    const char* n = PQcmdTuples(result_.get());
    std::uint64_t v = 0;
    if (n != nullptr) std::from_chars(n, n + std::char_traits<char>::length(n), v);
    return v;
}

StoreResult<Rows> exec(PGconn* conn, std::string_view what, const std::string& sql, const Params& params) {
    if (conn == nullptr)
        return unexpected(StoreError{StoreError::Code::closed, fmt::format("PostgreSQL: {}: no connection", what)});
    const auto values = params.pointers();
    const auto lengths = params.lengths();
    // Without parameters the simple protocol, which also runs several
    // statements in one string (migrations); with them the extended one.
    PGresult* result = params.size() == 0 ? PQexec(conn, sql.c_str())
                                          : PQexecParams(conn, sql.c_str(), params.size(), nullptr, values.data(),
                                                         lengths.data(), params.formats().data(), 0);
    Rows rows(result);
    const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return rows;
    if (PQstatus(conn) == CONNECTION_BAD) {
        return unexpected(io_error(fmt::format("PostgreSQL: {}: connection to {}:{} lost: {}", what, PQhost(conn),
                                               PQport(conn), one_line(PQerrorMessage(conn)))));
    }
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    return unexpected(io_error(fmt::format("PostgreSQL: {}: {}{}", what,
                                           one_line(result ? PQresultErrorMessage(result) : PQerrorMessage(conn)),
                                           state ? fmt::format(" (SQLSTATE {})", state) : std::string())));
}

StoreResult<Connection> Connection::open(const PgOptions& options) {
    if (options.url.empty()) {
        return unexpected(StoreError{StoreError::Code::invalid, "PostgreSQL: no connection string (postgresql://...)"});
    }
    // A malformed string is the caller's mistake, not the server's: say so.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &parse_error);
    if (parsed == nullptr) {
        std::string reason = one_line(parse_error ? parse_error : "out of memory");
        if (parse_error) PQfreemem(parse_error);
        return unexpected(
            StoreError{StoreError::Code::invalid, fmt::format("PostgreSQL: bad connection string: {}", reason)});
    }
    PQconninfoFree(parsed);
    // Ours first: with expand_dbname the URL's own settings come later and win.
    const std::string timeout = std::to_string(std::max<long long>(1, options.connect_timeout.count()));
    const char* keys[] = {"connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "application_name", "dbname",          nullptr};
    const char* values[] = {timeout.c_str(), "1", "10", "5", "3", "txflow", options.url.c_str(), nullptr};
    PGconn* raw = PQconnectdbParams(keys, values, 1);
    if (raw == nullptr) return unexpected(io_error("PostgreSQL: out of memory creating a connection"));
    Connection conn(raw, "");
    if (PQstatus(raw) != CONNECTION_OK) {
        const char* host = PQhost(raw);
        const char* port = PQport(raw);
        return unexpected(
            io_error(fmt::format("PostgreSQL: cannot connect to {}:{}: {}", host && *host ? host : "(default host)",
                                 port && *port ? port : "5432", one_line(PQerrorMessage(raw)))));
    }
    // The server's NOTICEs ("schema already exists, skipping") are not ours
    // to print: libpq's default writes them to stderr.
    PQsetNoticeProcessor(
        raw, [](void*, const char*) {}, nullptr);
    conn.where_ = fmt::format("{}:{}/{}", PQhost(raw), PQport(raw), PQdb(raw));
    return conn;
}

bool valid_schema_name(std::string_view schema) {
    if (schema.empty() || schema.size() > 63) return false;
    if (!(schema[0] == '_' || (schema[0] >= 'a' && schema[0] <= 'z'))) return false;
    for (char c : schema) {
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    }
    return true;
}

StoreResult<Ok> check_schema_name(std::string_view schema) {
    if (valid_schema_name(schema)) return Ok{};
    return unexpected(StoreError{
        StoreError::Code::invalid,
        fmt::format("PostgreSQL: bad schema name \"{}\": use lower-case letters, digits and '_', starting with a "
                    "letter or '_', at most 63 characters",
                    schema)});
}

std::string table(std::string_view schema, std::string_view name) {
    return fmt::format("\"{}\".{}", schema, name);
}

}  // namespace txflow::store::pg

namespace txflow::store::pg {

std::string millis_text(std::chrono::milliseconds d) {
    return std::to_string(std::max<std::int64_t>(0, d.count()));
}

}  // namespace txflow::store::pg
