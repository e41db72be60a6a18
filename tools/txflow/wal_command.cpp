// `txflow wal verify`, `txflow wal dump` and `txflow wal repair`. verify and
// dump change nothing: they read the directory the way WalStore::open()
// would, without truncating, deleting or locking (see WalStore::inspect and
// WalStore::read_dir). repair opens it with WalOptions::repair.
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
//   txflow wal repair DIR
//     Opens the log with WalOptions::repair: it is cut at the first bad
//     record (that record and everything after it are dropped) and a torn
//     last write is truncated; prints what was dropped.
//     Exit: 0 repaired or nothing to repair; 1 cannot repair (a damaged
//     snapshot, I/O, the directory in use); 2 usage.

#include "wal_command.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "txflow/store/records.hpp"
#include "txflow/store/wal_store.hpp"

namespace txflow::tool {
namespace {

using store::WalCut;
using store::WalStore;

struct WalCommandOptions {
    std::string dir;
    std::uint64_t after = 0;
    bool json = false;  // dump: one JSON object instead of JSON lines
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
        out << "status: corrupt (open fails; `txflow wal repair " << o.dir << "` would cut the log there, dropping "
            << cut.bytes_dropped << " bytes)" << std::endl;
        throw Failure(kExitNoResult, fmt::format("corrupt WAL: {}", describe_cut(cut)));
    }
    if (r.torn_tail) {
        out << "status: ok, with a warning: the last write was torn (a crash mid-write); open truncates it\n";
    } else {
        out << "status: ok\n";
    }
    return kExitOk;
}

// `wal dump --json`: one object, {"dir", "snapshot": {"seq", "bytes"} | null,
// "records": [...], "torn_tail": "..." | null, "error": "..." | null}; the
// records are the same objects as the JSON lines, streamed into the array.
int run_dump_json(const WalCommandOptions& o, Context& ctx) {
    auto inspection = WalStore::inspect(o.dir);
    if (!inspection) throw Failure(kExitNoResult, inspection.error().message);
    const store::RecoveryReport& r = inspection->report;
    std::ostream& out = ctx.out;
    out << R"({"dir":)" << nlohmann::json(o.dir).dump() << R"(,"snapshot":)";
    if (r.snapshot_seq) {
        out << fmt::format(R"({{"seq":{},"bytes":{}}})", *r.snapshot_seq, r.snapshot_bytes);
    } else {
        out << "null";
    }
    out << R"(,"records":[)";
    bool first = true;
    auto read = WalStore::read_dir(o.dir, o.after, [&](const store::Record& record) {
        out << (first ? "" : ",") << store::record_to_json(record);
        first = false;
        return static_cast<bool>(out);
    });
    out << R"(],"torn_tail":)"
        << (r.torn_tail ? nlohmann::json(describe_cut(*r.torn_tail)).dump() : std::string("null"));
    out << R"(,"error":)" << (read ? std::string("null") : nlohmann::json(read.error().message).dump()) << "}\n";
    out.flush();
    return read ? kExitOk : kExitNoResult;
}

int run_dump(const WalCommandOptions& o, Context& ctx) {
    if (o.json) return run_dump_json(o, ctx);
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

int run_repair(const WalCommandOptions& o, Context& ctx) {
    store::WalOptions options;
    options.dir = o.dir;
    options.repair = true;
    auto wal = WalStore::open(options);
    if (!wal) throw Failure(kExitNoResult, fmt::format("cannot repair: {}", wal.error().message));
    const store::RecoveryReport r = (*wal)->recovery_report();
    if (auto closed = (*wal)->close(); !closed) throw Failure(kExitNoResult, closed.error().message);

    std::ostream& out = ctx.out;
    if (r.repaired) {
        out << fmt::format("cut: {} ({} bytes dropped)\n", describe_cut(*r.repaired), r.repaired->bytes_dropped);
        for (const auto& segment : r.removed_segments) out << "removed segment: " << segment.string() << '\n';
    }
    if (r.torn_tail) {
        out << fmt::format("truncated a torn write: {} ({} bytes)\n", describe_cut(*r.torn_tail),
                           r.torn_tail->bytes_dropped);
    }
    out << fmt::format("kept: {} record(s){}\n", r.records,
                       r.records > 0 ? fmt::format(", seq {}..{}", r.first_seq, r.last_seq) : "");
    out << (r.repaired || r.torn_tail ? "status: repaired\n" : "status: ok, nothing to repair\n");
    return kExitOk;
}

// A `wal` subcommand taking DIR, whose work is `run`; returns its options
// for any further flags.
WalCommandOptions& add_wal_subcommand(CLI::App& wal, Context& ctx, const char* name, const char* description,
                                      const char* footer, int (*run)(const WalCommandOptions&, Context&)) {
    auto options = std::make_shared<WalCommandOptions>();
    CLI::App* sub = wal.add_subcommand(name, description);
    sub->add_option("DIR", options->dir, "The WalStore directory")->required()->check(CLI::ExistingDirectory);
    sub->footer(footer);
    sub->callback([&ctx, options, run] { ctx.action = [&ctx, options, run] { return run(*options, ctx); }; });
    return *options;
}

}  // namespace

void add_wal_commands(CLI::App& app, Context& ctx) {
    CLI::App* wal =
        app.add_subcommand("wal", "Write-ahead log directories: check them, print their records, repair them");
    wal->require_subcommand(1);

    add_wal_subcommand(*wal, ctx, "verify", "Check every segment and the snapshot; print a summary",
                       "Changes nothing in DIR. Exit status: 0 clean (also with a torn last write, which opening "
                       "truncates: a warning), 1 corrupt or unreadable, 2 usage error.",
                       run_verify);
    WalCommandOptions& dump = add_wal_subcommand(
        *wal, ctx, "dump", "Print the snapshot's seq and every record, one JSON object a line",
        "First line {\"snapshot_seq\":N,\"bytes\":M} when there is a snapshot. Changes nothing in DIR.\n"
        "Exit status: 0 ok, 1 corrupt (after the records before the damage) or unreadable, 2 usage error.",
        run_dump);
    wal->get_subcommand("dump")
        ->add_option("--after", dump.after, "Only records with a seq above this")
        ->type_name("SEQ");
    wal->get_subcommand("dump")->add_flag(
        "--json", dump.json, "Print one JSON object: dir, snapshot, records, torn_tail, error (docs/cli.md)");
    add_wal_subcommand(
        *wal, ctx, "repair", "Cut the log at its first bad record (dropping it and all after it)",
        "Prints what was dropped. Stop the daemon first (the directory must not be in use).\n"
        "Exit status: 0 repaired or nothing to repair, 1 cannot repair (a damaged snapshot, I/O), 2 usage error.",
        run_repair);
}

}  // namespace txflow::tool
