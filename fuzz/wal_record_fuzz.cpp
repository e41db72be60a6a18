// libFuzzer target for the WAL's segment reader (src/store/wal_format.hpp).
//
// Each input is used twice:
//   1. as the bytes of a segment file, read both as the log's last segment
//      (where a damaged end may be a torn write) and as a sealed one. The
//      reader must not crash, hang or allocate beyond the input, and what it
//      reports must hold together: records in seq order, each inside the
//      input, the defect (if any) after the last valid record.
//   2. as a list of records (u16 type, u8 length, payload ...), encoded with
//      the writer's encoder into a segment: reading it back must give exactly
//      those records; cut at any byte (the input's first byte picks where), it
//      must give every record that lies wholly before the cut, then stop at
//      the first one that does not.
//
// Build and run: fuzz/run_fuzz.sh [seconds] (runs this target too).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/wal_format.hpp"

namespace {

namespace wal = txflow::store::wal;

[[noreturn]] void fail(const char* property, const std::string& detail) {
    std::fprintf(stderr, "\nwal_record_fuzz: property broken: %s\n  %s\n", property, detail.c_str());
    std::abort();
}

void check_raw(std::string_view bytes, bool last) {
    wal::MemorySource source(bytes);
    wal::SegmentExpectation expect;
    expect.last = last;
    std::uint64_t prev_seq = 0;
    std::uint64_t prev_end = wal::kSegmentHeaderSize;
    auto scan = wal::scan_segment(source, bytes.size(), expect, [&](const wal::RecordView& r) {
        if (prev_seq != 0 && r.seq != prev_seq + 1) fail("seqs follow one another", std::to_string(r.seq));
        if (r.offset != prev_end) fail("records are contiguous", std::to_string(r.offset));
        const std::uint64_t end = r.offset + wal::kRecordHeaderSize + r.payload.size();
        if (end > bytes.size()) fail("a record lies inside the input", std::to_string(end));
        prev_seq = r.seq;
        prev_end = end;
        return true;
    });
    if (!scan) fail("a memory source never fails", scan.error().message);
    if (scan->valid_end > bytes.size()) fail("valid_end inside the input", std::to_string(scan->valid_end));
    if (scan->defect) {
        if (scan->defect->offset < scan->valid_end || scan->defect->offset > bytes.size()) {
            fail("the defect lies after the valid records", std::to_string(scan->defect->offset));
        }
        if (!last && scan->defect->kind != wal::DefectKind::corrupt) {
            fail("a sealed segment has no torn tail", scan->defect->reason);
        }
    } else if (scan->valid_end != bytes.size()) {
        fail("a clean scan reaches the end", std::to_string(scan->valid_end));
    }
}

struct Input {
    std::uint16_t type;
    std::string payload;
};

void check_round_trip(std::string_view bytes) {
    if (bytes.empty()) return;
    const auto cut_choice = static_cast<unsigned char>(bytes[0]);
    bytes.remove_prefix(1);
    std::vector<Input> inputs;
    while (bytes.size() >= 3) {
        const auto type = static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[0]) |
                                                     (static_cast<unsigned char>(bytes[1]) << 8));
        const std::size_t length = std::min<std::size_t>(static_cast<unsigned char>(bytes[2]), bytes.size() - 3);
        inputs.push_back({type, std::string(bytes.substr(3, length))});
        bytes.remove_prefix(3 + length);
    }

    const std::uint64_t first_seq = 1 + inputs.size() * 7;
    std::string segment = wal::encode_segment_header({first_seq, 0x5eed5eed5eed5eedULL});
    std::vector<std::uint64_t> ends;
    std::uint64_t hash = 0x5eed5eed5eed5eedULL;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        hash = wal::append_record(segment, first_seq + i, hash, inputs[i].type, inputs[i].payload);
        ends.push_back(segment.size());
    }

    // Whole: exactly the records.
    {
        wal::MemorySource source(segment);
        std::size_t n = 0;
        wal::SegmentExpectation expect;
        expect.last = true;
        expect.name_seq = first_seq;
        auto scan = wal::scan_segment(source, segment.size(), expect, [&](const wal::RecordView& r) {
            if (n >= inputs.size() || r.seq != first_seq + n || r.type != inputs[n].type ||
                r.payload != inputs[n].payload) {
                fail("round trip gives the records back", "record " + std::to_string(n));
            }
            ++n;
            return true;
        });
        if (!scan || scan->defect || n != inputs.size() || scan->last_hash != hash) {
            fail("an encoded segment reads back clean", scan && scan->defect ? scan->defect->reason : "");
        }
    }

    // Cut: the whole records before the cut, then a stop at the first partial one.
    const std::uint64_t cut = segment.size() * cut_choice / 255;
    const std::string_view prefix = std::string_view(segment).substr(0, cut);
    wal::MemorySource source(prefix);
    std::size_t n = 0;
    wal::SegmentExpectation expect;
    expect.last = true;
    auto scan = wal::scan_segment(source, prefix.size(), expect, [&](const wal::RecordView&) {
        ++n;
        return true;
    });
    if (!scan) fail("a memory source never fails", scan.error().message);
    std::size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    if (cut < wal::kSegmentHeaderSize) whole = 0;
    if (n != whole) fail("a cut log keeps every whole record", std::to_string(n) + " of " + std::to_string(whole));
    const bool on_boundary = cut == wal::kSegmentHeaderSize || (whole > 0 && ends[whole - 1] == cut);
    if (cut >= wal::kSegmentHeaderSize && on_boundary != !scan->defect) {
        fail("a cut between records is clean, inside one is not", std::to_string(cut));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    check_raw(bytes, true);
    check_raw(bytes, false);
    check_round_trip(bytes);
    return 0;
}
