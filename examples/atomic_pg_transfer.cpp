// Money moved between two PostgreSQL databases atomically, or not at all: an
// atomic transaction whose two participants are real two-phase resources,
// PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK PREPARED on two databases
// (bank A holds alice's account, bank B bob's).
//
//   build/examples/atomic_pg_transfer [URL]   (default: $TXFLOW_PG_URL)
//
// The server needs max_prepared_transactions > 0 (scripts/pg-dev starts one
// so). The example makes two databases of its own and drops them at the end.
// It moves 30 from alice to bob (both banks vote yes: committed), then 500
// (alice has 70: bank A votes no, bank B's prepared credit is rolled back),
// and exits 1 unless the balances and the server's prepared transactions
// show exactly that.
#include <libpq-fe.h>

#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "txflow/txflow.hpp"

namespace {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Rows = std::unique_ptr<PGresult, decltype(&PQclear)>;

Connection connect(const std::string& url, const std::string& dbname = {}) {
    // expand_dbname: the first "dbname" is the whole URL, a second one only renames the database.
    const char* keys[] = {"dbname", dbname.empty() ? nullptr : "dbname", nullptr};
    const char* values[] = {url.c_str(), dbname.c_str(), nullptr};
    Connection c{PQconnectdbParams(keys, values, 1), &PQfinish};
    if (PQstatus(c.get()) != CONNECTION_OK)
        throw std::runtime_error("cannot connect to " + (dbname.empty() ? url : dbname) + ": " +
                                 PQerrorMessage(c.get()));
    return c;
}

// Runs `sql`; returns the rows, or throws with the server's message and SQLSTATE.
Rows exec(PGconn* c, const std::string& sql) {
    Rows r{PQexec(c, sql.c_str()), &PQclear};
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
        const std::string message = PQresultErrorMessage(r.get());  // its first line: "ERROR:  ..."
        throw std::runtime_error(std::string(state ? state : "?????") + " " + message.substr(0, message.find('\n')));
    }
    return r;
}

std::string literal(PGconn* c, std::string_view text) {
    std::unique_ptr<char, decltype(&PQfreemem)> quoted{PQescapeLiteral(c, text.data(), text.size()), &PQfreemem};
    if (!quoted) throw std::runtime_error(PQerrorMessage(c));
    return quoted.get();
}

bool no_such_prepared(const std::runtime_error& e) {
    return std::string_view(e.what()).starts_with("42704");
}

// One bank's side of a transfer: its account changes by `sign` * amount.
struct Bank {
    std::string url, dbname, account;
    long long sign;

    // The global id of this transaction's branch in this bank: the same in
    // every phase and after a crash, so commit and abort find what prepare left.
    static std::string gid(const txflow::atomic::Context& c) {
        return std::string(c.txn_id()) + "/" + std::string(c.participant());
    }

    txflow::atomic::Vote prepare(txflow::atomic::Context& c) const {
        auto conn = connect(url, dbname);
        const long long delta = sign * c.data()["amount"].get<long long>();
        exec(conn.get(), "BEGIN");
        try {
            auto r = exec(conn.get(), "UPDATE accounts SET balance = balance + " + std::to_string(delta) +
                                          " WHERE name = " + literal(conn.get(), account));
            if (std::string_view(PQcmdTuples(r.get())) != "1") throw std::runtime_error("no account " + account);
        } catch (const std::runtime_error& e) {
            exec(conn.get(), "ROLLBACK");
            return txflow::atomic::Vote::refuse(e.what());  // e.g. 23514: the balance would go below zero
        }
        exec(conn.get(), "PREPARE TRANSACTION " + literal(conn.get(), gid(c)));
        return txflow::atomic::Vote::commit();
    }

    // Both may come twice (a lost acknowledgement) and abort may come for a
    // branch never prepared: a missing prepared transaction is already done.
    void finish(txflow::atomic::Context& c, std::string_view verb) const {
        auto conn = connect(url, dbname);
        try {
            exec(conn.get(), std::string(verb) + " PREPARED " + literal(conn.get(), gid(c)));
        } catch (const std::runtime_error& e) {
            if (!no_such_prepared(e)) throw;  // thrown: the coordinator calls again, with backoff
        }
    }
};

long long balance(const std::string& url, const std::string& dbname, const std::string& account) {
    auto conn = connect(url, dbname);
    auto r = exec(conn.get(), "SELECT balance FROM accounts WHERE name = " + literal(conn.get(), account));
    return std::stoll(PQgetvalue(r.get(), 0, 0));
}

long long prepared_left(const std::string& url, const std::string& dbname) {
    auto conn = connect(url, dbname);
    auto r = exec(conn.get(), "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()");
    return std::stoll(PQgetvalue(r.get(), 0, 0));
}

int run(const std::string& url) {
    auto admin = connect(url);
    const std::string suffix = std::to_string(::getpid());
    Bank a{url, "txflow_example_bank_a_" + suffix, "alice", -1};
    Bank b{url, "txflow_example_bank_b_" + suffix, "bob", +1};
    for (const Bank* bank : {&a, &b}) {
        exec(admin.get(), "CREATE DATABASE " + bank->dbname);
        auto conn = connect(url, bank->dbname);
        exec(conn.get(), "CREATE TABLE accounts (name text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))");
        exec(conn.get(), "INSERT INTO accounts VALUES (" + literal(conn.get(), bank->account) + ", " +
                             (bank == &a ? "100" : "0") + ")");
    }
    const auto drop = [&] {
        for (const Bank* bank : {&a, &b})
            exec(admin.get(), "DROP DATABASE IF EXISTS " + bank->dbname + " WITH (FORCE)");
    };

    using txflow::atomic::Context;
    auto transfer = txflow::Atomic("transfer")
                        .participant("bank-a")
                        .prepare([&a](Context& c) { return a.prepare(c); })
                        .commit([&a](Context& c) { a.finish(c, "COMMIT"); })
                        .abort([&a](Context& c) { a.finish(c, "ROLLBACK"); })
                        .participant("bank-b")
                        .prepare([&b](Context& c) { return b.prepare(c); })
                        .commit([&b](Context& c) { b.finish(c, "COMMIT"); })
                        .abort([&b](Context& c) { b.finish(c, "ROLLBACK"); })
                        .prepare_timeout(std::chrono::seconds(10))
                        .build();

    txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(4)};
    sched.start();
    bool ok = true;
    const auto move = [&](long long amount, txflow::atomic::State expected, long long alice, long long bob) {
        const auto id = sched.start_atomic(transfer, {{"amount", amount}});
        const auto info = sched.wait_transaction(id, std::chrono::seconds(30));
        const auto state = info ? txflow::atomic::to_string(info->state) : std::string_view("(no answer)");
        const long long got_alice = balance(url, a.dbname, "alice"), got_bob = balance(url, b.dbname, "bob");
        const long long left = prepared_left(url, a.dbname) + prepared_left(url, b.dbname);
        std::cout << "transfer " << amount << ": " << state
                  << (info && !info->reason.empty() ? " (" + info->reason + ")" : "") << "; alice " << got_alice
                  << ", bob " << got_bob << ", prepared left " << left << "\n";
        if (!info || info->state != expected || got_alice != alice || got_bob != bob || left != 0) {
            std::cout << "  expected " << txflow::atomic::to_string(expected) << "; alice " << alice << ", bob " << bob
                      << ", prepared left 0\n";
            ok = false;
        }
    };
    try {
        move(30, txflow::atomic::State::committed, 70, 30);
        move(500, txflow::atomic::State::aborted, 70, 30);  // alice has 70: bank A votes no
    } catch (...) {
        sched.stop(std::chrono::seconds(5));
        drop();
        throw;
    }
    sched.stop(std::chrono::seconds(5));
    drop();
    std::cout << (ok ? "atomic: every transfer moved all or nothing\n" : "atomic: FAILED\n");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const char* env = std::getenv("TXFLOW_PG_URL");
    const std::string url = argc > 1 ? argv[1] : (env ? env : "");
    if (url.empty()) {
        std::cerr << "usage: atomic_pg_transfer URL (or set TXFLOW_PG_URL)\n";
        return 2;
    }
    try {
        return run(url);
    } catch (const std::exception& e) {
        std::cerr << "atomic_pg_transfer: " << e.what() << "\n";
        return 1;
    }
}
