#pragma once
// What the PostgreSQL tests share: the server's URL from TXFLOW_PG_URL (see
// scripts/lib/pg.sh; scripts/pg-dev starts one by hand), a schema of their own
// (tests run under ctest --parallel) dropped at the end, and a plain libpq
// connection for what a user's own code would do (transactions around
// enqueue_in, looking at rows).
//
// Without TXFLOW_PG_URL a test prints "SKIPPED: TXFLOW_PG_URL is not set" and
// returns (ctest reports the entry as skipped); under CI=true it fails instead:
// a green CI means the PostgreSQL tests ran.

#include <libpq-fe.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "txflow/store/pg_queue.hpp"

namespace txflow::test {

inline bool under_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string_view(ci) == "true";
}

// The URL, or nullopt after saying the test is skipped (failing under CI).
inline std::optional<std::string> pg_url() {
    const char* url = std::getenv("TXFLOW_PG_URL");
    if (url != nullptr && *url != '\0') return std::string(url);
    if (under_ci())
        FAIL("TXFLOW_PG_URL is not set and CI=true: the PostgreSQL tests must run (scripts/test starts a server)");
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) {
        std::printf("SKIPPED: TXFLOW_PG_URL is not set (start a server: eval \"$(scripts/pg-dev start)\")\n");
    }
    return std::nullopt;
}

// A plain libpq connection; every statement must succeed.
class RawConn {
public:
    explicit RawConn(const std::string& url) : conn_(PQconnectdb(url.c_str()), &PQfinish) {
        REQUIRE(PQstatus(conn_.get()) == CONNECTION_OK);
        PQsetNoticeProcessor(
            conn_.get(), [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
    }
    [[nodiscard]] PGconn* get() const { return conn_.get(); }
    // Runs sql; returns the first column of the first row ("" when none).
    std::string exec(const std::string& sql) const {
        std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(conn_.get(), sql.c_str()), &PQclear);
        const auto status = PQresultStatus(r.get());
        INFO(sql << ": " << PQresultErrorMessage(r.get()));
        REQUIRE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
        if (PQntuples(r.get()) == 0) return {};
        return PQgetvalue(r.get(), 0, 0);
    }
    // The same, for use off the test's thread (no Catch assertions): nullopt on error.
    std::optional<std::string> try_exec(const std::string& sql) const {
        std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(conn_.get(), sql.c_str()), &PQclear);
        const auto status = PQresultStatus(r.get());
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return std::nullopt;
        if (PQntuples(r.get()) == 0) return std::string();
        return std::string(PQgetvalue(r.get(), 0, 0));
    }

private:
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
};

// A fresh schema name for this test; DROP SCHEMA ... CASCADE at the end.
class PgSchema {
public:
    explicit PgSchema(std::string url, std::string_view tag = "t") : url_(std::move(url)) {
        static std::atomic<unsigned> counter{0};
        std::random_device rd;
        // TXFLOW_PG_TEST_SCHEMA_PREFIX: several people's tests on one server stay apart by name.
        const char* prefix = std::getenv("TXFLOW_PG_TEST_SCHEMA_PREFIX");
        name_ = std::string(prefix != nullptr && *prefix != '\0' ? prefix : "txflow_test") + "_" + std::string(tag) +
                "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                std::to_string(rd() % 100000);
    }
    PgSchema(const PgSchema&) = delete;
    PgSchema& operator=(const PgSchema&) = delete;
    ~PgSchema() {
        PGconn* c = PQconnectdb(url_.c_str());
        if (PQstatus(c) == CONNECTION_OK) {
            PQsetNoticeProcessor(
                c, [](void*, const char*) {}, nullptr);
            PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE").c_str()));
        }
        PQfinish(c);
    }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] const std::string& url() const { return url_; }
    [[nodiscard]] store::PgOptions options() const {
        store::PgOptions o;
        o.url = url_;
        o.schema = name_;
        return o;
    }
    // "<schema>".<table>
    [[nodiscard]] std::string table(std::string_view t) const { return "\"" + name_ + "\"." + std::string(t); }

private:
    std::string url_;
    std::string name_;
};

inline std::unique_ptr<store::PgQueue> open_pg_queue(const PgSchema& schema) {
    auto q = store::PgQueue::open(schema.options());
    INFO((q ? "" : q.error().message));
    REQUIRE(q);
    return std::move(*q);
}

// Claims from "default" and expects exactly one job.
inline store::ClaimedJob claim_one(store::PgQueue& q) {
    auto claimed = q.claim("default", 1, std::chrono::seconds(30));
    INFO((claimed ? "" : claimed.error().message));
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 1);
    return claimed->front();
}

}  // namespace txflow::test
