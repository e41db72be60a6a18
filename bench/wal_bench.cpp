// WAL benchmark: durable appends against SQLite, and recovery speed.
//
//   wal_bench [--dir DIR] [--seconds S] [--threads 1,2,4,8] [--records N]
//
// Prints `name value` lines:
//   wal_appends_per_s{threads=T} N     WalStore::append (submit + sync) of a
//                                      100-byte payload, Durability::every_record,
//                                      T threads appending for S seconds
//   sqlite_inserts_per_s{threads=T} N  the same records into SQLite (journal_mode=WAL,
//                                      synchronous=FULL), one INSERT per transaction,
//                                      each thread its own connection (busy_timeout)
//   recovery_records_per_s N           WalStore::open + read() of N (1,000,000) records
//                                      (page cache warm: the log was just written)
// WAL and SQLite alternate per thread count in one run, on the same disk: DIR
// (default: wal_bench_data next to this executable; keep it off tmpfs).
// Details (counts, times) go to stderr.

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "txflow/store/wal_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using txflow::store::Durability;
using txflow::store::WalOptions;
using txflow::store::WalStore;

constexpr std::size_t kPayloadBytes = 100;
constexpr std::uint16_t kType = 3;

struct Options {
    fs::path dir;
    double seconds = 3.0;
    std::vector<int> threads{1, 2, 4, 8};
    std::uint64_t records = 1'000'000;
};

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "wal_bench: %s\n", message.c_str());
    std::exit(1);
}

void reset_dir(const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
}

// Runs body(thread index, stop flag) on n threads for `seconds`; returns the
// operations all threads counted per second of wall time.
template <class Body>
double run_threads(int n, double seconds, Body body) {
    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};
    std::vector<std::uint64_t> counts(static_cast<std::size_t>(n), 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            counts[static_cast<std::size_t>(t)] = body(t, stop);
        });
    }
    const auto start = Clock::now();
    go.store(true, std::memory_order_release);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::uint64_t total = 0;
    for (auto c : counts) total += c;
    return static_cast<double>(total) / elapsed;
}

double bench_wal(const Options& o, int threads) {
    const fs::path dir = o.dir / ("wal-" + std::to_string(threads));
    reset_dir(dir);
    WalOptions options;
    options.dir = dir;
    options.durability = Durability::every_record();
    auto wal = WalStore::open(options);
    if (!wal) die("open: " + wal.error().message);
    WalStore& store = **wal;
    const std::string payload(kPayloadBytes, 'w');
    const double rate = run_threads(threads, o.seconds, [&](int, const std::atomic<bool>& stop) {
        std::uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            if (auto seq = store.append(kType, payload); !seq) die("append: " + seq.error().message);
            ++n;
        }
        return n;
    });
    const auto stats = store.stats();
    std::fprintf(
        stderr, "wal: %d threads, %llu records, %llu fdatasyncs (%.1f records each)\n", threads,
        static_cast<unsigned long long>(store.last_seq()), static_cast<unsigned long long>(stats.fdatasyncs),
        static_cast<double>(store.last_seq()) / static_cast<double>(std::max<std::uint64_t>(1, stats.fdatasyncs)));
    if (auto closed = store.close(); !closed) die("close: " + closed.error().message);
    wal->reset();
    fs::remove_all(dir);
    return rate;
}

void sqlite_exec(sqlite3* db, const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error != nullptr ? error : "?";
        sqlite3_free(error);
        die(std::string("sqlite: ") + sql + ": " + message);
    }
}

sqlite3* sqlite_open(const fs::path& file) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
        die("sqlite open " + file.string() + ": " + (db != nullptr ? sqlite3_errmsg(db) : "?"));
    }
    sqlite3_busy_timeout(db, 10'000);
    sqlite_exec(db, "PRAGMA synchronous=FULL");
    return db;
}

double bench_sqlite(const Options& o, int threads) {
    const fs::path dir = o.dir / ("sqlite-" + std::to_string(threads));
    reset_dir(dir);
    const fs::path file = dir / "records.db";
    {
        sqlite3* db = sqlite_open(file);
        sqlite_exec(db, "PRAGMA journal_mode=WAL");
        sqlite_exec(db, "CREATE TABLE records (seq INTEGER PRIMARY KEY, type INTEGER NOT NULL, payload BLOB NOT NULL)");
        sqlite3_close(db);
    }
    const std::string payload(kPayloadBytes, 's');
    std::atomic<std::uint64_t> busy{0};
    const double rate = run_threads(threads, o.seconds, [&](int, const std::atomic<bool>& stop) {
        sqlite3* db = sqlite_open(file);
        sqlite3_stmt* insert = nullptr;
        if (sqlite3_prepare_v2(db, "INSERT INTO records (type, payload) VALUES (?, ?)", -1, &insert, nullptr) !=
            SQLITE_OK) {
            die(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
        }
        std::uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            sqlite3_bind_int(insert, 1, kType);
            sqlite3_bind_blob(insert, 2, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
            const int rc = sqlite3_step(insert);  // autocommit: one transaction per record
            sqlite3_reset(insert);
            if (rc == SQLITE_DONE) {
                ++n;
            } else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                ++busy;  // busy_timeout ran out: try again
            } else {
                die(std::string("sqlite insert: ") + sqlite3_errmsg(db));
            }
        }
        sqlite3_finalize(insert);
        sqlite3_close(db);
        return n;
    });
    if (busy > 0) std::fprintf(stderr, "sqlite: %llu busy retries\n", static_cast<unsigned long long>(busy.load()));
    fs::remove_all(dir);
    return rate;
}

double bench_recovery(const Options& o) {
    const fs::path dir = o.dir / "recovery";
    reset_dir(dir);
    {
        WalOptions options;
        options.dir = dir;
        options.durability = Durability::none();
        auto wal = WalStore::open(options);
        if (!wal) die("open: " + wal.error().message);
        const std::string payload(kPayloadBytes, 'r');
        for (std::uint64_t i = 0; i < o.records; ++i) {
            if (auto seq = (*wal)->submit(kType, payload); !seq) die("submit: " + seq.error().message);
        }
        if (auto closed = (*wal)->close(); !closed) die("close: " + closed.error().message);
    }
    const auto start = Clock::now();
    WalOptions options;
    options.dir = dir;
    auto wal = WalStore::open(options);
    if (!wal) die("open: " + wal.error().message);
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    auto read = (*wal)->read(0, [&](const txflow::store::Record& r) {
        ++count;
        bytes += r.payload.size();
        return true;
    });
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (!read) die("read: " + read.error().message);
    if (count != o.records) die("recovery read " + std::to_string(count) + " records");
    std::fprintf(stderr, "recovery: %llu records, %llu payload bytes, %.3f s (open + read)\n",
                 static_cast<unsigned long long>(count), static_cast<unsigned long long>(bytes), elapsed);
    wal->reset();
    fs::remove_all(dir);
    return static_cast<double>(count) / elapsed;
}

std::vector<int> parse_threads(std::string_view list) {
    std::vector<int> out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string item(list.substr(0, comma));
        const int n = std::atoi(item.c_str());
        if (n < 1 || n > 256) die("--threads: bad count \"" + item + "\"");
        out.push_back(n);
        list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    o.dir = fs::absolute(argv[0]).parent_path() / "wal_bench_data";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--dir") {
            o.dir = value();
        } else if (arg == "--seconds") {
            o.seconds = std::atof(value().c_str());
        } else if (arg == "--threads") {
            o.threads = parse_threads(value());
        } else if (arg == "--records") {
            o.records = std::strtoull(value().c_str(), nullptr, 10);
        } else {
            die("usage: wal_bench [--dir DIR] [--seconds S] [--threads 1,2,4,8] [--records N]");
        }
    }
    if (o.seconds <= 0) die("--seconds must be positive");
    reset_dir(o.dir);

    for (const int threads : o.threads) {
        const double wal = bench_wal(o, threads);
        std::printf("wal_appends_per_s{threads=%d} %.0f\n", threads, wal);
        std::fflush(stdout);
        const double sqlite = bench_sqlite(o, threads);
        std::printf("sqlite_inserts_per_s{threads=%d} %.0f\n", threads, sqlite);
        std::fflush(stdout);
        std::fprintf(stderr, "ratio at %d threads: %.2fx\n", threads, wal / sqlite);
    }
    if (o.records > 0) {
        std::printf("recovery_records_per_s %.0f\n", bench_recovery(o));
    }
    fs::remove_all(o.dir);
    return 0;
}
