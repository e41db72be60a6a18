// Big batches without unique keys or run_at go in with COPY FROM STDIN: one
// statement, no parameter limit, no per-row planning (several times faster
// than multi-row INSERTs for tens of thousands of jobs). The rows carry the
// ids enqueue_batch took from the sequence; the columns left out (run_at,
// created_at, state, ...) get their defaults, so run_at is the database's now().

#include "store/pg/queue_copy.hpp"

#include <fmt/format.h>

namespace txflow::store::pg {

namespace {

constexpr std::size_t kChunk = 1 << 20;  // bytes handed to libpq at a time

// COPY's text format: backslash, tab, newline and carriage return escaped.
void append_text(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
}

// A bytea as COPY text: \\x and hex (the backslash itself escaped).
void append_bytea(std::string& out, std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\\\x";
    for (char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
    }
}

StoreError failed(std::string_view what, PGconn* conn) {
    std::string reason = PQerrorMessage(conn);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    return StoreError{StoreError::Code::io, fmt::format("PostgreSQL: {}: COPY: {}", what, reason)};
}

}  // namespace

bool copy_fits(std::span<const NewJob> batch) {
    if (batch.size() < kCopyThreshold) return false;
    for (const auto& job : batch) {
        if (job.options.unique_key || job.options.run_at || !job.options.traceparent.empty()) return false;
    }
    return true;
}

StoreResult<Ok> copy_jobs(const Connection& conn, std::string_view what, const std::string& jobs,
                          std::span<const NewJob> batch, std::span<const Enqueued> ids) {
    PGconn* c = conn.get();
    PGresult* started =
        PQexec(c, ("COPY " + jobs + " (id, kind, queue, payload, priority, max_attempts) FROM STDIN").c_str());
    const bool copying = PQresultStatus(started) == PGRES_COPY_IN;
    PQclear(started);
    if (!copying) return unexpected(failed(what, c));
    std::string buffer;
    buffer.reserve(kChunk + 4096);
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& job = batch[i];
        fmt::format_to(std::back_inserter(buffer), "{}\t", ids[i].id);
        append_text(buffer, job.kind);
        buffer += '\t';
        append_text(buffer, job.options.queue);
        buffer += '\t';
        append_bytea(buffer, job.payload);
        fmt::format_to(std::back_inserter(buffer), "\t{}\t{}\n", job.options.priority, job.options.max_attempts);
        if (buffer.size() >= kChunk || i + 1 == batch.size()) {
            if (PQputCopyData(c, buffer.data(), static_cast<int>(buffer.size())) != 1) {
                return unexpected(failed(what, c));
            }
            buffer.clear();
        }
    }
    if (PQputCopyEnd(c, nullptr) != 1) return unexpected(failed(what, c));
    bool ok = true;
    std::string reason;
    while (PGresult* r = PQgetResult(c)) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            ok = false;
            reason = PQresultErrorMessage(r);
        }
        PQclear(r);
    }
    if (!ok) {
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
        return unexpected(StoreError{StoreError::Code::io, fmt::format("PostgreSQL: {}: COPY: {}", what, reason)});
    }
    return Ok{};
}

}  // namespace txflow::store::pg
