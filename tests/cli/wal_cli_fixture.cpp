// Makes a WalStore directory for tests/cli/wal_cli_test.sh:
//   wal_cli_fixture DIR RECORDS [SNAPSHOT_SEQ]
// RECORDS records of type 900 with payload "record <seq>", in 512-byte
// segments, and a snapshot "state at <seq>" when SNAPSHOT_SEQ is given.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "txflow/store/wal_store.hpp"

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: wal_cli_fixture DIR RECORDS [SNAPSHOT_SEQ]\n");
        return 2;
    }
    txflow::store::WalOptions options;
    options.dir = argv[1];
    options.segment_bytes = 512;
    options.durability = txflow::store::Durability::none();
    auto wal = txflow::store::WalStore::open(options);
    if (!wal) {
        std::fprintf(stderr, "open: %s\n", wal.error().message.c_str());
        return 1;
    }
    const unsigned long records = std::strtoul(argv[2], nullptr, 10);
    for (unsigned long i = 1; i <= records; ++i) {
        if (!(*wal)->submit(900, "record " + std::to_string(i))) return 1;
    }
    if (argc == 4) {
        const unsigned long seq = std::strtoul(argv[3], nullptr, 10);
        auto snapshot = (*wal)->write_snapshot(seq, "state at " + std::to_string(seq));
        if (!snapshot) {
            std::fprintf(stderr, "snapshot: %s\n", snapshot.error().message.c_str());
            return 1;
        }
    }
    auto closed = (*wal)->close();
    if (!closed) {
        std::fprintf(stderr, "close: %s\n", closed.error().message.c_str());
        return 1;
    }
    return 0;
}
