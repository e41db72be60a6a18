// WalStore's write side: rotation, group commit, durability policies,
// snapshots and compaction, concurrent readers, the directory lock.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "store/wal_format.hpp"
#include "store/wal_test_util.hpp"
#include "txflow/store/wal_store.hpp"

namespace wal_store_test {

namespace {

using namespace std::chrono_literals;
using txflow::store::Durability;
using txflow::store::Record;
using txflow::store::StoreError;
using txflow::store::WalOptions;
using txflow::store::WalStore;
using txflow::test::open_wal;
using txflow::test::TempDir;

WalOptions options_for(const TempDir& dir, Durability durability = Durability::none(),
                       std::uint64_t segment_bytes = std::uint64_t{64} << 20) {
    WalOptions o;
    o.dir = dir.path();
    o.durability = durability;
    o.segment_bytes = segment_bytes;
    return o;
}

std::vector<Record> read_all(txflow::store::Store& store, std::uint64_t after = 0) {
    std::vector<Record> out;
    REQUIRE(store.read(after, [&](const Record& r) {
        out.push_back(r);
        return true;
    }));
    return out;
}

std::vector<Record> read_dir_all(const std::filesystem::path& dir) {
    std::vector<Record> out;
    auto r = WalStore::read_dir(dir, 0, [&](const Record& rec) {
        out.push_back(rec);
        return true;
    });
    REQUIRE(r);
    return out;
}

// Polls until pred() or the deadline.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = 5s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        if (pred()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

}  // namespace

TEST_CASE("WAL: options are checked", "[store][wal]") {
    TempDir dir;
    auto small = WalStore::open(options_for(dir, Durability::none(), 10));
    REQUIRE_FALSE(small);
    CHECK(small.error().code == StoreError::Code::invalid);
    CHECK_THAT(small.error().message, Catch::Contains("segment_bytes"));

    auto zero_interval = WalStore::open(options_for(dir, Durability::interval(0ms)));
    REQUIRE_FALSE(zero_interval);
    CHECK(zero_interval.error().code == StoreError::Code::invalid);

    WalOptions no_dir;
    CHECK_FALSE(WalStore::open(no_dir));
}

TEST_CASE("WAL: open creates the directory and one empty segment", "[store][wal]") {
    TempDir parent;
    const auto dir = parent / "a/b/wal";
    // As in the README.
    auto wal = open_wal({.dir = dir, .durability = Durability::every_record(), .segment_bytes = 64 << 20});
    CHECK(std::filesystem::is_directory(dir));
    CHECK(std::filesystem::exists(dir / "00000000000000000001.wal"));
    CHECK(wal->recovery_report().records == 0);
    CHECK_FALSE(wal->recovery_report().torn_tail);
}

TEST_CASE("WAL: segments rotate at the configured size and are named by their first seq", "[store][wal]") {
    TempDir dir;
    // 32-byte header + 7 records of 28 + 100 bytes = 928 <= 1024; an 8th would not fit.
    const std::string payload(100, 'r');
    {
        auto wal = open_wal(options_for(dir, Durability::none(), 1024));
        for (int i = 0; i < 50; ++i) REQUIRE(wal->submit(1, payload));
        REQUIRE(wal->close());
    }
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        names.push_back(e.path().filename().string());
        CHECK(e.file_size() <= 1024);
    }
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected;
    for (std::uint64_t first = 1; first <= 50; first += 7)
        expected.push_back(txflow::store::wal::segment_file_name(first));
    CHECK(names == expected);

    auto wal = open_wal(options_for(dir, Durability::none(), 1024));
    CHECK(wal->recovery_report().segments == expected.size());
    CHECK(wal->recovery_report().records == 50);
    CHECK(wal->recovery_report().first_seq == 1);
    CHECK(wal->recovery_report().last_seq == 50);
    const auto all = read_all(*wal);
    REQUIRE(all.size() == 50);
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].seq == i + 1);

    SECTION("a record larger than a segment gets a segment of its own") {
        REQUIRE(wal->append(2, std::string(5000, 'L')));
        REQUIRE(wal->append(3, "small"));
        REQUIRE(wal->close());
        CHECK(std::filesystem::file_size(dir / txflow::store::wal::segment_file_name(51)) == 32 + 28 + 5000);
        CHECK(std::filesystem::exists(dir / txflow::store::wal::segment_file_name(52)));
        auto again = open_wal(options_for(dir, Durability::none(), 1024));
        const auto tail = read_all(*again, 50);
        REQUIRE(tail.size() == 2);
        CHECK(tail[0].payload == std::string(5000, 'L'));
        CHECK(tail[1].payload == "small");
    }
}

TEST_CASE("WAL: group commit: 8 appending threads, every seq once and in order after reopen",
          "[store][wal][group-commit]") {
    TempDir dir;
    constexpr int kThreads = 8;
    constexpr int kEach = 250;
    std::vector<std::vector<std::uint64_t>> got(kThreads);
    {
        auto wal = open_wal(options_for(dir, Durability::every_record(), 16 * 1024));
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    auto seq = wal->append(static_cast<std::uint16_t>(t), std::to_string(t) + "/" + std::to_string(i));
                    if (!seq) {
                        ++failures;
                        return;
                    }
                    got[static_cast<std::size_t>(t)].push_back(*seq);
                }
            });
        }
        for (auto& th : threads) th.join();
        REQUIRE(failures == 0);
        // Group commit: appends shared fdatasyncs.
        const auto stats = wal->stats();
        CHECK(stats.records_submitted == kThreads * kEach);
        CHECK(stats.fdatasyncs > 0);
        CHECK(stats.fdatasyncs < stats.records_submitted);
        UNSCOPED_INFO("fdatasyncs: " << stats.fdatasyncs << " for " << stats.records_submitted << " records");
        // No close(): the records were acknowledged durable one by one.
    }

    std::map<std::uint64_t, std::string> expected;
    for (int t = 0; t < kThreads; ++t) {
        const auto& seqs = got[static_cast<std::size_t>(t)];
        REQUIRE(seqs.size() == kEach);
        CHECK(std::is_sorted(seqs.begin(), seqs.end()));
        for (int i = 0; i < kEach; ++i) {
            expected[seqs[static_cast<std::size_t>(i)]] = std::to_string(t) + "/" + std::to_string(i);
        }
    }
    REQUIRE(expected.size() == kThreads * kEach);

    auto wal = open_wal(options_for(dir, Durability::every_record(), 16 * 1024));
    const auto all = read_all(*wal);
    REQUIRE(all.size() == kThreads * kEach);
    for (std::size_t i = 0; i < all.size(); ++i) {
        REQUIRE(all[i].seq == i + 1);
        REQUIRE(all[i].payload == expected[all[i].seq]);
    }
    CHECK_FALSE(wal->recovery_report().torn_tail);
}

TEST_CASE("WAL: durability policies", "[store][wal][durability]") {
    TempDir dir;

    SECTION("every_record: an acknowledged append is in the file") {
        auto wal = open_wal(options_for(dir, Durability::every_record()));
        auto seq = wal->append(1, "durable");
        REQUIRE(seq);
        const auto on_disk = read_dir_all(dir.path());
        REQUIRE(on_disk.size() == 1);
        CHECK(on_disk[0].payload == "durable");
    }
    SECTION("interval: sync hands the record to the OS; the background writer needs no sync") {
        auto wal = open_wal(options_for(dir, Durability::interval(20ms)));
        auto seq = wal->append(1, "synced");
        REQUIRE(seq);
        CHECK(read_dir_all(dir.path()).size() == 1);
        REQUIRE(wal->submit(1, "not synced"));
        CHECK(eventually([&] { return read_dir_all(dir.path()).size() == 2; }));
    }
    SECTION("none: sync hands the record to the OS; submits are written behind") {
        auto wal = open_wal(options_for(dir, Durability::none()));
        auto seq = wal->append(1, "synced");
        REQUIRE(seq);
        CHECK(read_dir_all(dir.path()).size() == 1);
        REQUIRE(wal->submit(1, "not synced"));
        CHECK(eventually([&] { return read_dir_all(dir.path()).size() == 2; }));
    }
    SECTION("every_record: submits are written behind too") {
        auto wal = open_wal(options_for(dir, Durability::every_record()));
        REQUIRE(wal->submit(1, "not synced"));
        CHECK(eventually([&] { return read_dir_all(dir.path()).size() == 1; }));
    }
    SECTION("after close, nothing is accepted") {
        auto wal = open_wal(options_for(dir, Durability::interval(1s)));
        REQUIRE(wal->submit(1, "x"));
        REQUIRE(wal->close());
        CHECK(read_dir_all(dir.path()).size() == 1);
        auto refused = wal->submit(1, "y");
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == StoreError::Code::closed);
        CHECK(wal->close());  // idempotent
    }
}

TEST_CASE("WAL: a directory is opened by one store at a time", "[store][wal]") {
    TempDir dir;
    auto first = open_wal(options_for(dir));
    auto second = WalStore::open(options_for(dir));
    REQUIRE_FALSE(second);
    CHECK_THAT(second.error().message, Catch::Contains("in use"));
    REQUIRE(first->close());
    CHECK(WalStore::open(options_for(dir)));
}

TEST_CASE("WAL: compaction keeps the directory bounded under steady load", "[store][wal][compaction]") {
    TempDir dir;
    constexpr std::uint64_t kSegment = 4096;
    constexpr int kPerRound = 100;
    const std::string payload(100, 'c');
    const std::string state(1000, 's');
    const std::uint64_t round_bytes = kPerRound * (28 + payload.size());
    auto wal = open_wal(options_for(dir, Durability::none(), kSegment));

    SECTION("snapshots covering everything") {
        for (int round = 0; round < 30; ++round) {
            for (int i = 0; i < kPerRound; ++i) REQUIRE(wal->submit(1, payload));
            REQUIRE(wal->write_snapshot(wal->last_seq(), state));
            INFO("round " << round);
            CHECK(txflow::test::count_files(dir.path(), ".snap") == 1);
            CHECK(txflow::test::count_files(dir.path(), ".wal") == 1);  // only the fresh tail
            CHECK(txflow::test::dir_bytes(dir.path()) <= kSegment + 32 + state.size());
            CHECK(wal->bytes_since_snapshot() == 0);
        }
    }
    SECTION("snapshots lagging behind the log") {
        for (int round = 0; round < 30; ++round) {
            for (int i = 0; i < kPerRound; ++i) REQUIRE(wal->submit(1, payload));
            const std::uint64_t seq = wal->last_seq() - 10;
            REQUIRE(wal->write_snapshot(seq, state));
            INFO("round " << round);
            CHECK(txflow::test::count_files(dir.path(), ".snap") == 1);
            CHECK(txflow::test::dir_bytes(dir.path()) <= 2 * round_bytes + 2 * kSegment + 32 + state.size());
            CHECK(wal->bytes_since_snapshot() == 10 * payload.size());
        }
    }
    const std::uint64_t last = wal->last_seq();
    const auto bytes_since = wal->bytes_since_snapshot();
    REQUIRE(wal->close());

    auto again = open_wal(options_for(dir, Durability::none(), kSegment));
    CHECK(again->last_seq() == last);
    CHECK(again->bytes_since_snapshot() == bytes_since);
    auto snapshot = again->load_snapshot();
    REQUIRE(snapshot);
    REQUIRE(snapshot->has_value());
    CHECK((*snapshot)->state == state);
    CHECK(read_all(*again, (*snapshot)->seq).size() == last - (*snapshot)->seq);
}

TEST_CASE("WAL: open removes what a crash mid-snapshot leaves", "[store][wal][compaction]") {
    TempDir dir;
    {
        auto wal = open_wal(options_for(dir));
        for (int i = 0; i < 10; ++i) REQUIRE(wal->submit(1, "x"));
        REQUIRE(wal->write_snapshot(5, "five"));
        REQUIRE(wal->close());
    }
    txflow::test::write_file(dir / "snapshot-00000000000000000009.snap.tmp", "half written");
    // An older snapshot a crash kept from being deleted.
    txflow::test::write_file(dir / txflow::store::wal::snapshot_file_name(2),
                             txflow::test::read_file(dir / txflow::store::wal::snapshot_file_name(5)));
    auto wal = open_wal(options_for(dir));
    CHECK_FALSE(std::filesystem::exists(dir / "snapshot-00000000000000000009.snap.tmp"));
    CHECK_FALSE(std::filesystem::exists(dir / txflow::store::wal::snapshot_file_name(2)));
    auto snapshot = wal->load_snapshot();
    REQUIRE(snapshot);
    CHECK((*snapshot)->state == "five");
}

TEST_CASE("WAL: readers, writers and snapshots at the same time", "[store][wal][concurrency]") {
    TempDir dir;
    auto wal = open_wal(options_for(dir, Durability::interval(2ms), 2048));
    std::atomic<bool> done{false};
    std::atomic<int> errors{0};
    std::atomic<int> reads{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; ++i) {
                if (!wal->append(static_cast<std::uint16_t>(t), std::string(60, static_cast<char>('a' + t)))) ++errors;
            }
        });
    }
    threads.emplace_back([&] {
        while (!done) {
            const std::uint64_t last = wal->last_seq();
            if (last > 20 && !wal->write_snapshot(last - 20, "state")) ++errors;
            std::this_thread::sleep_for(1ms);
        }
    });
    for (int reader = 0; reader < 2; ++reader) {
        threads.emplace_back([&] {
            while (!done) {
                auto snapshot = wal->load_snapshot();
                if (!snapshot) {
                    ++errors;
                    continue;
                }
                const std::uint64_t from = *snapshot ? (*snapshot)->seq : 0;
                // Every record after `from`, from from + 1 on, without a gap.
                std::uint64_t expect = from + 1;
                auto r = wal->read(from, [&](const Record& rec) {
                    if (rec.seq != expect) ++errors;
                    expect = rec.seq + 1;
                    return true;
                });
                if (!r) {
                    // A snapshot taken since load_snapshot() compacted records
                    // after `from`: said so, and a newer snapshot is there to read from.
                    auto newer = wal->load_snapshot();
                    const bool compacted =
                        r.error().code == StoreError::Code::invalid && newer && *newer && (*newer)->seq > from;
                    if (!compacted) {
                        UNSCOPED_INFO(r.error().message);
                        ++errors;
                    }
                    continue;
                }
                ++reads;
            }
        });
    }
    for (std::size_t i = 0; i < 3; ++i) threads[i].join();
    done = true;
    for (std::size_t i = 3; i < threads.size(); ++i) threads[i].join();
    CHECK(errors == 0);
    CHECK(reads > 0);
    CHECK(wal->last_seq() == 900);
    REQUIRE(wal->close());
    auto again = open_wal(options_for(dir, Durability::none(), 2048));
    CHECK(again->last_seq() == 900);
}

TEST_CASE("WAL: a read yields every record while a snapshot compacts the segments it streams",
          "[store][wal][compaction][concurrency]") {
    // Deterministic: the visitor itself takes the snapshot, after the reader
    // listed the segments and before it opened all but the first. Before the
    // reader pinned them, the snapshot deleted them and the read went on at
    // the first segment left (1, 2, 3, 28, 29, 30).
    TempDir dir;
    // 32-byte header + 3 records of 28 + 40 bytes = 236 <= 256: 3 records a segment.
    auto wal = open_wal(options_for(dir, Durability::none(), 256));
    for (int i = 0; i < 30; ++i) REQUIRE(wal->submit(1, std::string(40, 'r')));
    REQUIRE(wal->sync(30));  // written out: segments 1, 4, ... 28
    REQUIRE(txflow::test::count_files(dir.path(), ".wal") == 10);

    std::vector<std::uint64_t> seen;
    std::size_t segments_during = 0;
    auto r = wal->read(0, [&](const Record& rec) {
        seen.push_back(rec.seq);
        if (rec.seq == 1) {
            // Covers the segments 1 ... 25; the tail (28 ... 30) stays.
            REQUIRE(wal->write_snapshot(27, "state at 27"));
            segments_during = txflow::test::count_files(dir.path(), ".wal");
        }
        return true;
    });
    REQUIRE(r);
    std::vector<std::uint64_t> all(30);
    std::iota(all.begin(), all.end(), std::uint64_t{1});
    CHECK(seen == all);
    CHECK(segments_during > 1);                                 // the reader's segments waited for it ...
    CHECK(txflow::test::count_files(dir.path(), ".wal") == 1);  // ... and went when it was done

    // A read that stops early lets its segments go as well.
    for (int i = 0; i < 30; ++i) REQUIRE(wal->submit(1, std::string(40, 'r')));  // segments 31 ... 58
    REQUIRE(wal->sync(60));
    seen.clear();
    REQUIRE(wal->read(27, [&](const Record& rec) {
        seen.push_back(rec.seq);
        REQUIRE(wal->write_snapshot(57, "state at 57"));  // covers the segments 28 ... 55
        return false;
    }));
    CHECK(seen == std::vector<std::uint64_t>{28});
    CHECK(txflow::test::count_files(dir.path(), ".wal") == 1);

    REQUIRE(wal->close());
    auto again = open_wal(options_for(dir, Durability::none(), 256));
    CHECK(again->last_seq() == 60);
    CHECK(read_all(*again, 57).size() == 3);
}

TEST_CASE("WAL: a read from before what compaction kept fails instead of skipping records",
          "[store][wal][compaction]") {
    TempDir dir;
    auto wal = open_wal(options_for(dir, Durability::none(), 256));  // 3 records a segment, as above
    for (int i = 0; i < 30; ++i) REQUIRE(wal->submit(1, std::string(40, 'r')));
    REQUIRE(wal->write_snapshot(27, "state at 27"));  // keeps only the segment 28 ... 30

    for (const std::uint64_t after : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{26}}) {
        INFO("after " << after);
        int visits = 0;
        auto r = wal->read(after, [&](const Record&) {
            ++visits;
            return true;
        });
        REQUIRE_FALSE(r);
        CHECK(r.error().code == StoreError::Code::invalid);
        CHECK_THAT(r.error().message, Catch::Contains("compacted") && Catch::Contains("snapshot at seq 27"));
        CHECK(visits == 0);
    }
    CHECK(read_all(*wal, 27).size() == 3);
    CHECK(read_all(*wal, 30).empty());

    // A snapshot covers records that are still kept (their segment holds newer
    // ones too): they are read, not refused.
    REQUIRE(wal->write_snapshot(29, "state at 29"));
    const auto kept = read_all(*wal, 27);
    REQUIRE(kept.size() == 3);
    CHECK(kept.front().seq == 28);
}

TEST_CASE("WAL: snapshots complete while appenders never pause", "[store][wal][concurrency]") {
    // Submitters outrun the disk here: back-pressure keeps memory bounded, and
    // each snapshot waits only for what was submitted before it.
    TempDir dir;
    constexpr std::uint64_t kSegment = 256 * 1024;
    auto wal = open_wal(options_for(dir, Durability::none(), kSegment));
    std::atomic<bool> done{false};
    std::vector<std::thread> appenders;
    for (int t = 0; t < 2; ++t) {
        appenders.emplace_back([&] {
            // Bounded, in case snapshots never finish.
            for (int i = 0; i < 2'000'000 && !done; ++i) (void)wal->submit(1, std::string(50, 'a'));
        });
    }
    while (wal->last_seq() < 100) std::this_thread::yield();
    for (int i = 0; i < 20; ++i) REQUIRE(wal->write_snapshot(wal->last_seq(), "state"));
    done = true;
    for (auto& th : appenders) th.join();
    CHECK(txflow::test::count_files(dir.path(), ".snap") == 1);
    const std::uint64_t last = wal->last_seq();
    REQUIRE(wal->close());
    auto again = open_wal(options_for(dir, Durability::none(), kSegment));
    CHECK(again->last_seq() == last);
}

}  // namespace wal_store_test
