// WalStore recovery: torn tails, corruption, reordering and splicing, repair,
// garbage, and the read-only inspection that `txflow wal verify` uses.

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "store/wal_format.hpp"
#include "store/wal_test_util.hpp"
#include "txflow/store/wal_store.hpp"

namespace wal_recovery_test {

namespace {

namespace wal = txflow::store::wal;
namespace fs = std::filesystem;
using txflow::store::Durability;
using txflow::store::Record;
using txflow::store::StoreError;
using txflow::store::WalOptions;
using txflow::store::WalStore;
using txflow::test::fingerprint;
using txflow::test::open_wal;
using txflow::test::read_file;
using txflow::test::TempDir;
using txflow::test::write_file;

WalOptions options_for(const fs::path& dir, std::uint64_t segment_bytes = std::uint64_t{64} << 20,
                       bool repair = false) {
    WalOptions o;
    o.dir = dir;
    o.durability = Durability::none();
    o.segment_bytes = segment_bytes;
    o.repair = repair;
    return o;
}

std::string payload_for(std::uint64_t i) {
    return "payload #" + std::to_string(i) + std::string(40, '.');
}

// A closed WAL of `count` records (payload_for(1..count)).
void make_wal(const fs::path& dir, int count, std::uint64_t segment_bytes = std::uint64_t{64} << 20) {
    auto store = open_wal(options_for(dir, segment_bytes));
    for (int i = 1; i <= count; ++i) REQUIRE(store->submit(7, payload_for(static_cast<std::uint64_t>(i))));
    REQUIRE(store->close());
}

std::vector<fs::path> segment_files(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (wal::parse_segment_file_name(e.path().filename().string())) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct Span {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::uint64_t seq = 0;
};

// Where each record of a (valid) segment file lies.
std::vector<Span> record_spans(const fs::path& path) {
    const std::string bytes = read_file(path);
    wal::MemorySource source(bytes);
    std::vector<Span> spans;
    auto scan = wal::scan_segment(source, bytes.size(), {}, [&](const wal::RecordView& r) {
        spans.push_back({r.offset, wal::kRecordHeaderSize + r.payload.size(), r.seq});
        return true;
    });
    REQUIRE(scan);
    REQUIRE_FALSE(scan->defect);
    return spans;
}

void copy_dir(const fs::path& from, const fs::path& to) {
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

void flip_byte(const fs::path& path, std::uint64_t offset) {
    std::string bytes = read_file(path);
    REQUIRE(offset < bytes.size());
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x20);
    write_file(path, bytes);
}

std::string corrupt_message(const fs::path& dir, bool repair = false) {
    auto store = WalStore::open(options_for(dir, std::uint64_t{64} << 20, repair));
    REQUIRE_FALSE(store);
    CHECK(store.error().code == StoreError::Code::corrupt);
    return store.error().message;
}

std::vector<Record> read_all(txflow::store::Store& store) {
    std::vector<Record> out;
    REQUIRE(store.read(0, [&](const Record& r) {
        out.push_back(r);
        return true;
    }));
    return out;
}

}  // namespace

TEST_CASE("WAL recovery: a torn last record is truncated, at every cut inside it", "[store][wal][recovery]") {
    TempDir original;
    make_wal(original.path(), 10);
    const fs::path segment = segment_files(original.path()).back();
    const auto spans = record_spans(segment);
    REQUIRE(spans.size() == 10);
    const Span last = spans.back();
    const std::string name = segment.filename().string();

    for (std::uint64_t cut = last.offset; cut < last.offset + last.size; ++cut) {
        INFO("cut at byte " << cut);
        TempDir dir;
        copy_dir(original.path(), dir.path());
        fs::resize_file(dir / name, cut);

        // verify: reports the torn tail, changes nothing.
        const auto before = fingerprint(dir.path());
        auto inspection = WalStore::inspect(dir.path());
        REQUIRE(inspection);
        CHECK_FALSE(inspection->corruption);
        CHECK(inspection->report.last_seq == 9);
        if (cut == last.offset) {
            CHECK_FALSE(inspection->report.torn_tail);  // a clean end: the record never began
        } else {
            REQUIRE(inspection->report.torn_tail);
            CHECK(inspection->report.torn_tail->offset == last.offset);
            CHECK(inspection->report.torn_tail->bytes_dropped == cut - last.offset);
        }
        CHECK(fingerprint(dir.path()) == before);

        // open: truncates and reports it; the log goes on from seq 10.
        {
            auto store = open_wal(options_for(dir.path()));
            const auto& report = store->recovery_report();
            if (cut != last.offset) {
                REQUIRE(report.torn_tail);
                CHECK(report.torn_tail->segment.filename() == name);
                CHECK(report.torn_tail->offset == last.offset);
                CHECK(report.torn_tail->bytes_dropped == cut - last.offset);
                CHECK_FALSE(report.torn_tail->reason.empty());
            }
            CHECK(store->last_seq() == 9);
            CHECK(fs::file_size(dir / name) == last.offset);
            auto seq = store->append(7, "again");
            REQUIRE(seq);
            CHECK(*seq == 10);
        }
        auto store = open_wal(options_for(dir.path()));
        CHECK_FALSE(store->recovery_report().torn_tail);
        CHECK(store->last_seq() == 10);
        CHECK(read_all(*store).back().payload == "again");
    }
}

TEST_CASE("WAL recovery: torn tails of a multi-segment log", "[store][wal][recovery]") {
    TempDir dir;
    make_wal(dir.path(), 40, 1024);
    const auto segments = segment_files(dir.path());
    REQUIRE(segments.size() > 2);

    SECTION("a bad crc in the final record, nothing after it") {
        const auto last = record_spans(segments.back()).back();
        flip_byte(segments.back(), last.offset + last.size - 1);
        auto store = open_wal(options_for(dir.path(), 1024));
        REQUIRE(store->recovery_report().torn_tail);
        CHECK_THAT(store->recovery_report().torn_tail->reason, Catch::Contains("bad crc"));
        CHECK(store->last_seq() == 39);
    }
    SECTION("garbage after the last record") {
        std::string bytes = read_file(segments.back());
        std::mt19937 rng(7);
        for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(rng()));
        write_file(segments.back(), bytes);
        auto store = open_wal(options_for(dir.path(), 1024));
        REQUIRE(store->recovery_report().torn_tail);
        CHECK(store->recovery_report().torn_tail->bytes_dropped == 300);
        CHECK(store->last_seq() == 40);
    }
    SECTION("a new segment whose header never made it") {
        write_file(dir / wal::segment_file_name(41), std::string(10, '\x17'));
        auto store = open_wal(options_for(dir.path(), 1024));
        REQUIRE(store->recovery_report().torn_tail);
        CHECK(store->recovery_report().torn_tail->offset == 0);
        CHECK(store->last_seq() == 40);
        CHECK(store->append(7, "x"));
    }
    SECTION("zeros a crash left after preallocation are trimmed quietly") {
        std::string bytes = read_file(segments.back());
        bytes.append(4096, '\0');
        write_file(segments.back(), bytes);
        auto store = open_wal(options_for(dir.path(), 1024));
        CHECK_FALSE(store->recovery_report().torn_tail);
        CHECK(store->recovery_report().unused_tail_bytes == 4096);
        CHECK(store->last_seq() == 40);
    }
}

TEST_CASE("WAL recovery: a bit flip in a middle record is corruption naming the segment and offset",
          "[store][wal][recovery]") {
    TempDir dir;
    make_wal(dir.path(), 40, 1024);
    const auto segments = segment_files(dir.path());
    REQUIRE(segments.size() > 2);

    SECTION("in the last segment, with valid records after it") {
        const auto spans = record_spans(segments.back());
        REQUIRE(spans.size() >= 2);
        const Span victim = spans[spans.size() - 2];
        flip_byte(segments.back(), victim.offset + 40);

        const auto before = fingerprint(dir.path());
        auto inspection = WalStore::inspect(dir.path());
        REQUIRE(inspection);
        REQUIRE(inspection->corruption);
        CHECK(inspection->corruption->segment == segments.back());
        CHECK(inspection->corruption->offset == victim.offset);
        CHECK(inspection->report.last_seq == victim.seq - 1);
        CHECK(fingerprint(dir.path()) == before);

        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains(segments.back().filename().string()));
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(victim.offset)));
        CHECK_THAT(message, Catch::Contains("bad crc"));
        CHECK_THAT(message, Catch::Contains("follows"));
        CHECK(fingerprint(dir.path()) == before);  // a failed open changes nothing either
    }
    SECTION("in the last record of a sealed segment") {
        const Span victim = record_spans(segments[1]).back();
        flip_byte(segments[1], victim.offset + 30);
        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains(segments[1].filename().string()));
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(victim.offset)));
    }
    SECTION("in a segment header") {
        flip_byte(segments[0], 2);
        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains(segments[0].filename().string()));
        CHECK_THAT(message, Catch::Contains("at byte 0"));
        CHECK_THAT(message, Catch::Contains("bad magic"));
    }
    SECTION("in a record's length") {
        const Span victim = record_spans(segments[1]).front();
        flip_byte(segments[1], victim.offset + 5);
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("at byte " + std::to_string(victim.offset)));
    }
    SECTION("a record length over the payload limit is damage, not a huge read") {
        const Span victim = record_spans(segments[1]).front();
        auto bytes = read_file(segments[1]);
        for (std::size_t i = 0; i < 4; ++i) bytes[victim.offset + 4 + i] = '\xff';  // length 4 GiB - 1
        write_file(segments[1], bytes);
        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(victim.offset)));
        CHECK_THAT(message, Catch::Contains("record length 4294967295 is over the 268435456 byte limit"));
    }
    SECTION("a sealed segment cut short") {
        fs::resize_file(segments[1], fs::file_size(segments[1]) - 3);
        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains(segments[1].filename().string()));
        CHECK_THAT(message, Catch::Contains("short payload"));
    }
    SECTION("a missing segment is a seq gap") {
        fs::remove(segments[1]);
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("seq gap"));
    }
    SECTION("a missing first segment without a snapshot is a seq gap") {
        fs::remove(segments[0]);
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("no snapshot"));
    }
}

TEST_CASE("WAL recovery: reordered and spliced records break the chain", "[store][wal][recovery]") {
    TempDir dir;
    make_wal(dir.path(), 10);
    const fs::path segment = segment_files(dir.path()).front();
    const auto spans = record_spans(segment);
    const std::string original = read_file(segment);

    SECTION("two records swapped") {
        const Span a = spans[3];
        const Span b = spans[4];
        REQUIRE(a.size == b.size);
        std::string bytes = original;
        bytes.replace(a.offset, a.size, original.substr(b.offset, b.size));
        bytes.replace(b.offset, b.size, original.substr(a.offset, a.size));
        write_file(segment, bytes);
        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains("chain mismatch"));
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(a.offset)));
    }
    SECTION("a record copied from another WAL with the same contents") {
        TempDir other;
        make_wal(other.path(), 10);
        const fs::path other_segment = segment_files(other.path()).front();
        const std::string foreign = read_file(other_segment);
        const Span s = spans[5];
        REQUIRE(foreign.substr(s.offset, s.size) != original.substr(s.offset, s.size));  // same seq, type, payload
        std::string bytes = original;
        bytes.replace(s.offset, s.size, foreign.substr(s.offset, s.size));
        write_file(segment, bytes);
        const auto message = corrupt_message(dir.path());
        CHECK_THAT(message, Catch::Contains("chain mismatch"));
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(s.offset)));
    }
    SECTION("a record duplicated") {
        std::string bytes = original;
        bytes.insert(spans[6].offset, original.substr(spans[5].offset, spans[5].size));
        write_file(segment, bytes);
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("chain mismatch"));
    }
    SECTION("a segment from another WAL appended") {
        TempDir other;
        make_wal(other.path(), 20);
        fs::copy_file(segment_files(other.path()).front(), dir / wal::segment_file_name(11));
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("file name"));
    }
}

TEST_CASE("WAL recovery: repair cuts the log at the first bad record", "[store][wal][recovery]") {
    TempDir dir;
    make_wal(dir.path(), 40, 1024);
    const auto segments = segment_files(dir.path());
    REQUIRE(segments.size() >= 4);
    const Span victim = record_spans(segments[1]).at(2);
    flip_byte(segments[1], victim.offset + 30);

    CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("repair"));  // the error says how out
    {
        auto store = open_wal(options_for(dir.path(), 1024, /*repair=*/true));
        const auto& report = store->recovery_report();
        REQUIRE(report.repaired);
        CHECK(report.repaired->segment == segments[1]);
        CHECK(report.repaired->offset == victim.offset);
        CHECK(report.repaired->bytes_dropped > 0);
        CHECK(report.removed_segments.size() == segments.size() - 2);
        CHECK(store->last_seq() == victim.seq - 1);
        auto seq = store->append(7, "after repair");
        REQUIRE(seq);
        CHECK(*seq == victim.seq);
    }
    auto store = open_wal(options_for(dir.path(), 1024));
    CHECK_FALSE(store->recovery_report().repaired);
    const auto all = read_all(*store);
    REQUIRE(all.size() == victim.seq);
    CHECK(all.back().payload == "after repair");
    CHECK(all[0].payload == payload_for(1));
}

TEST_CASE("WAL recovery: garbage files", "[store][wal][recovery]") {
    TempDir dir;
    std::mt19937 rng(1234);
    auto random_bytes = [&](std::size_t n) {
        std::string s(n, '\0');
        for (auto& c : s) c = static_cast<char>(rng());
        return s;
    };

    SECTION("random bytes as the only segment") {
        write_file(dir / wal::segment_file_name(1), random_bytes(5000));
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("bad magic"));
        auto inspection = WalStore::inspect(dir.path());
        REQUIRE(inspection);
        CHECK(inspection->corruption);
    }
    SECTION("an empty segment file: a crash right after creating it") {
        write_file(dir / wal::segment_file_name(1), "");
        auto store = open_wal(options_for(dir.path()));
        CHECK(store->last_seq() == 0);
        CHECK(store->append(1, "x"));
    }
    SECTION("random bytes as the snapshot: corrupt, and repair cannot help") {
        make_wal(dir.path(), 3);
        write_file(dir / wal::snapshot_file_name(2), random_bytes(100));
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("snapshot"));
        CHECK_THAT(corrupt_message(dir.path(), /*repair=*/true), Catch::Contains("snapshot"));
    }
    SECTION("a snapshot with one bit flipped") {
        {
            auto store = open_wal(options_for(dir.path()));
            REQUIRE(store->append(1, "x"));
            REQUIRE(store->write_snapshot(1, std::string(100, 's')));
        }
        flip_byte(dir / wal::snapshot_file_name(1), 60);
        CHECK_THAT(corrupt_message(dir.path()), Catch::Contains("bad crc"));
    }
    SECTION("files that are not the WAL's are left alone") {
        make_wal(dir.path(), 3);
        write_file(dir / "README", "notes");
        write_file(dir / "123.wal", random_bytes(50));
        auto store = open_wal(options_for(dir.path()));
        CHECK(store->last_seq() == 3);
        CHECK(fs::exists(dir / "README"));
        CHECK(fs::exists(dir / "123.wal"));
    }
    SECTION("random damage never crashes or hangs; what opens reads back") {
        TempDir original;
        make_wal(original.path(), 60, 700);
        const auto names = segment_files(original.path());
        for (int round = 0; round < 150; ++round) {
            TempDir work;
            copy_dir(original.path(), work.path());
            const fs::path victim = work / names[rng() % names.size()].filename().string();
            std::string bytes = read_file(victim);
            switch (rng() % 4) {
                case 0:  // flip bytes
                    for (int i = 0; i < 3; ++i) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
                    break;
                case 1:  // truncate
                    bytes.resize(rng() % bytes.size());
                    break;
                case 2:  // overwrite a stretch with garbage
                {
                    const std::size_t at = rng() % bytes.size();
                    bytes.replace(at, std::min<std::size_t>(40, bytes.size() - at), random_bytes(40));
                    break;
                }
                default:  // duplicate a stretch
                {
                    const std::size_t at = rng() % bytes.size();
                    bytes.insert(rng() % bytes.size(), bytes.substr(at, 64));
                    break;
                }
            }
            write_file(victim, bytes);
            auto inspection = WalStore::inspect(work.path());
            REQUIRE(inspection);
            for (bool repair : {false, true}) {
                auto store = WalStore::open(options_for(work.path(), 700, repair));
                if (!store) {
                    CHECK(store.error().code == StoreError::Code::corrupt);
                    CHECK_FALSE(repair);
                    CHECK(inspection->corruption);
                    continue;
                }
                const auto all = read_all(**store);
                CHECK(all.size() == (*store)->last_seq());
                for (std::size_t i = 0; i < all.size(); ++i) {
                    REQUIRE(all[i].seq == i + 1);
                    REQUIRE(all[i].payload == payload_for(i + 1));
                }
                break;
            }
        }
    }
}

TEST_CASE("WAL: read_dir streams a directory without changing it", "[store][wal][recovery]") {
    TempDir dir;
    make_wal(dir.path(), 25, 600);
    const auto segments = segment_files(dir.path());
    fs::resize_file(segments.back(), fs::file_size(segments.back()) - 5);  // a torn tail
    const auto before = fingerprint(dir.path());

    std::vector<std::uint64_t> seqs;
    REQUIRE(WalStore::read_dir(dir.path(), 10, [&](const Record& r) {
        seqs.push_back(r.seq);
        return true;
    }));
    REQUIRE(seqs.size() == 14);  // 11..24: 25 was torn
    CHECK(seqs.front() == 11);
    CHECK(seqs.back() == 24);
    CHECK(fingerprint(dir.path()) == before);

    flip_byte(segments[1], record_spans(segments[1]).front().offset + 30);
    seqs.clear();
    auto r = WalStore::read_dir(dir.path(), 0, [&](const Record& rec) {
        seqs.push_back(rec.seq);
        return true;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == StoreError::Code::corrupt);
    CHECK_FALSE(seqs.empty());  // the records before the corruption came first
}

}  // namespace wal_recovery_test
