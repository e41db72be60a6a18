// `txflow wal verify` and `txflow wal dump`. Neither changes the directory:
// they read it the way WalStore::open() would, without truncating, deleting
// or locking (see WalStore::inspect and WalStore::read_dir).
//
//   txflow wal verify DIR
//     A summary, one "key: value" line each:
//       dir, snapshot, segments, records, bytes, then any of
//       torn tail / unused tail / corruption, and last a status line.
//     Exit: 0 clean, also with a torn tail (open() would truncate it: a
//     warning, as after any crash mid-write); 1 corrupt (or unreadable);
//     2 usage.
//   txflow wal dump DIR [--after SEQ]
//     One JSON object per line: first {"snapshot_seq":N,"bytes":M} when a
//     snapshot exists, then every record (store::record_to_json). Stops
//     quietly before a torn tail (a note on stderr); at corruption, prints
//     the records before it and exits 1.

#include "wal_command.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "txflow/store/records.hpp"
#include "txflow/store/wal_store.hpp"

namespace txflow::tool {
namespace {

using store::WalCut;
using store::WalStore;

struct WalCommandOptions {
    std::string dir;
    std::uint64_t after = 0;
};

std::string describe_cut(const WalCut& cut) {
    return fmt::format("{} at byte {}: {}", cut.segment.string(), cut.offset, cut.reason);
}

int run_verify(const WalCommandOptions& o, Context& ctx) {
    auto inspection = WalStore::inspect(o.dir);
    if (!inspection) throw Failure(kExitNoResult, inspection.error().message);
    const store::RecoveryReport& r = inspection->report;
    std::ostream& out = ctx.out;

    out << "dir: " << o.dir << '\n';
    if (r.snapshot_seq) {
        out << fmt::format("snapshot: seq {}, {} bytes\n", *r.snapshot_seq, r.snapshot_bytes);
    } else {
        out << "snapshot: none\n";
    }
    out << "segments: " << r.segments << '\n';
    if (r.records > 0) {
        out << fmt::format("records: {}, seq {}..{}\n", r.records, r.first_seq, r.last_seq);
    } else {
        out << "records: 0\n";
    }
    out << "bytes: " << r.bytes << '\n';
    if (r.torn_tail) {
        out << fmt::format("torn tail: {} ({} bytes would be truncated on open)\n", describe_cut(*r.torn_tail),
                           r.torn_tail->bytes_dropped);
    }
    if (r.unused_tail_bytes > 0) {
        out << fmt::format("unused tail: {} bytes of preallocated zeros (would be trimmed on open)\n",
                           r.unused_tail_bytes);
    }
    if (inspection->corruption) {
        const WalCut& cut = *inspection->corruption;
        out << "corruption: " << describe_cut(cut) << '\n';
        out << "status: corrupt (open fails; WalOptions::repair would cut the log there, dropping " << cut.bytes_dropped
            << " bytes)" << std::endl;
        throw Failure(kExitNoResult, fmt::format("corrupt WAL: {}", describe_cut(cut)));
    }
    if (r.torn_tail) {
        out << "status: ok, with a warning: the last write was torn (a crash mid-write); open truncates it\n";
    } else {
        out << "status: ok\n";
    }
    return kExitOk;
}

int run_dump(const WalCommandOptions& o, Context& ctx) {
    auto inspection = WalStore::inspect(o.dir);
    if (!inspection) throw Failure(kExitNoResult, inspection.error().message);
    const store::RecoveryReport& r = inspection->report;
    if (r.snapshot_seq)
        ctx.out << fmt::format(R"({{"snapshot_seq":{},"bytes":{}}})", *r.snapshot_seq, r.snapshot_bytes) << '\n';

    auto read = WalStore::read_dir(o.dir, o.after, [&](const store::Record& record) {
        ctx.out << store::record_to_json(record) << '\n';
        return static_cast<bool>(ctx.out);
    });
    ctx.out.flush();
    if (!read) throw Failure(kExitNoResult, read.error().message);
    if (r.torn_tail) ctx.err << "txflow: note: not shown: a torn write at " << describe_cut(*r.torn_tail) << '\n';
    return kExitOk;
}

void add_dir_argument(CLI::App& sub, WalCommandOptions& o) {
    sub.add_option("DIR", o.dir, "The WalStore directory")->required()->check(CLI::ExistingDirectory);
}

}  // namespace

void add_wal_commands(CLI::App& app, Context& ctx) {
    CLI::App* wal = app.add_subcommand("wal", "Write-ahead log directories: check them, print their records");
    wal->require_subcommand(1);

    auto verify_options = std::make_shared<WalCommandOptions>();
    CLI::App* verify = wal->add_subcommand("verify", "Check every segment and the snapshot; print a summary");
    add_dir_argument(*verify, *verify_options);
    verify->footer(
        "Changes nothing in DIR. Exit status: 0 clean (also with a torn last write, which opening truncates: "
        "a warning), 1 corrupt or unreadable, 2 usage error.");
    verify->callback(
        [&ctx, verify_options] { ctx.action = [&ctx, verify_options] { return run_verify(*verify_options, ctx); }; });

    auto dump_options = std::make_shared<WalCommandOptions>();
    CLI::App* dump = wal->add_subcommand("dump", "Print the snapshot's seq and every record, one JSON object a line");
    add_dir_argument(*dump, *dump_options);
    dump->add_option("--after", dump_options->after, "Only records with a seq above this")->type_name("SEQ");
    dump->footer(
        "First line {\"snapshot_seq\":N,\"bytes\":M} when there is a snapshot. Changes nothing in DIR.\n"
        "Exit status: 0 ok, 1 corrupt (after the records before the damage) or unreadable, 2 usage error.");
    dump->callback(
        [&ctx, dump_options] { ctx.action = [&ctx, dump_options] { return run_dump(*dump_options, ctx); }; });
}

}  // namespace txflow::tool
