// cron_bench: how fast txflow parses cron expressions and finds their fires.
//
//   cron_bench --exprs FILE [--zone ZONE] [--min-time SECONDS] [--per-expr]
//
// FILE holds one expression per line; blank lines and lines starting with '#'
// are skipped, CRON_TZ= prefixes are allowed. With --zone, every schedule that
// has no prefix of its own is evaluated in that zone.
//
// Output (a contract: outside checks read these lines, "name value"):
//   parse_ns_per_op N   mean ns per txflow::cron::parse() over all expressions
//   next_ns_per_op N    mean ns per Schedule::next(), walking each schedule
//                       1,000 fires forward from 2026-01-01T00:00:00Z
// Further lines carry extra figures (counts, the slowest expression). With
// --per-expr, a per-expression breakdown goes to stderr.
//
// A plain program rather than Google Benchmark: the output format is fixed and
// the two figures are means over a whole file, not per-case runs.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using txflow::cron::Instant;
using txflow::cron::Schedule;

constexpr int kFiresPerWalk = 1000;

// Keeps a value (and everything reachable through memory) alive in the eyes of
// the optimizer, like benchmark::DoNotOptimize.
template <class T>
inline void do_not_optimize(const T& value) {
    asm volatile("" : : "r"(&value) : "memory");
}

struct Options {
    std::string exprs_path;
    std::string zone;
    double min_time_s = 0.3;
    bool per_expr = false;
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "cron_bench: " << why << "\n"
              << "usage: cron_bench --exprs FILE [--zone ZONE] [--min-time SECONDS] [--per-expr]\n";
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value after an option");
            return argv[++i];
        };
        if (arg == "--exprs") o.exprs_path = value();
        else if (arg == "--zone") o.zone = value();
        else if (arg == "--min-time") o.min_time_s = std::atof(value().c_str());
        else if (arg == "--per-expr") o.per_expr = true;
        else if (arg == "-h" || arg == "--help") usage("help");
        else usage("unknown argument");
    }
    if (o.exprs_path.empty()) usage("--exprs FILE is required");
    if (!(o.min_time_s > 0)) usage("--min-time must be positive");
    return o;
}

std::vector<std::string> read_exprs(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << "cron_bench: cannot open " << path << "\n";
        std::exit(1);
    }
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t\r\n");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto last = line.find_last_not_of(" \t\r\n");
        out.push_back(line.substr(first, last - first + 1));
    }
    return out;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Calls every parse once per round until min_time has passed; returns ns/op.
double bench_parse(const std::vector<std::string>& exprs, double min_time_s, std::uint64_t& ops_out) {
    std::vector<std::string_view> views(exprs.begin(), exprs.end());
    // Warm-up: the zone database and caches of the first lookups are not what we measure.
    for (auto v : views) {
        auto r = txflow::cron::parse(v);
        do_not_optimize(r);
    }
    std::uint64_t ops = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        for (int rep = 0; rep < 16; ++rep) {
            for (auto v : views) {
                do_not_optimize(v);
                auto r = txflow::cron::parse(v);
                do_not_optimize(r);
            }
        }
        ops += 16 * views.size();
        elapsed = seconds_since(start);
    } while (elapsed < min_time_s);
    ops_out = ops;
    return elapsed * 1e9 / static_cast<double>(ops);
}

// One walk: t = next(t), kFiresPerWalk times or until no fire. Returns calls made.
std::uint64_t walk(const Schedule& s, Instant from) {
    Instant t = from;
    std::uint64_t calls = 0;
    for (int i = 0; i < kFiresPerWalk; ++i) {
        const std::optional<Instant> n = s.next(t);
        ++calls;
        do_not_optimize(n);
        if (!n) break;
        t = *n;
    }
    return calls;
}

struct NextFigures {
    double ns_per_op = 0;
    std::uint64_t calls = 0;
};

NextFigures bench_next(const std::vector<Schedule>& schedules, Instant from, double min_time_s) {
    for (const auto& s : schedules) walk(s, from);  // warm-up
    std::uint64_t calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        for (const auto& s : schedules) {
            do_not_optimize(s);
            calls += walk(s, from);
        }
        elapsed = seconds_since(start);
    } while (elapsed < min_time_s);
    return {elapsed * 1e9 / static_cast<double>(calls), calls};
}

// Plain "name value" line; integers for the ns figures (sub-ns precision is noise).
void print(const char* name, double value) {
    std::printf("%s %.0f\n", name, value);
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse_args(argc, argv);
    const std::vector<std::string> exprs = read_exprs(opt.exprs_path);
    if (exprs.empty()) {
        std::cerr << "cron_bench: no expressions in " << opt.exprs_path << "\n";
        return 1;
    }

    const txflow::cron::Zone* zone = nullptr;
    if (!opt.zone.empty()) {
        zone = txflow::cron::Zone::find(opt.zone);
        if (zone == nullptr) {
            std::cerr << "cron_bench: unknown zone " << opt.zone << "\n";
            return 1;
        }
    }

    std::vector<Schedule> schedules;
    schedules.reserve(exprs.size());
    for (const auto& e : exprs) {
        auto r = txflow::cron::parse(e);
        if (!r) {
            std::cerr << "cron_bench: cannot parse \"" << e << "\": " << r.error().message() << "\n";
            return 1;
        }
        Schedule s = *r;
        if (zone != nullptr && s.spec().zone_name().empty()) s = s.in_zone(*zone);
        schedules.push_back(s);
    }

    using namespace std::chrono;
    const Instant from = time_point_cast<milliseconds>(sys_days{year{2026} / January / 1});

    std::uint64_t parse_ops = 0;
    const double parse_ns = bench_parse(exprs, opt.min_time_s, parse_ops);
    const NextFigures next = bench_next(schedules, from, opt.min_time_s);

    print("parse_ns_per_op", parse_ns);
    print("next_ns_per_op", next.ns_per_op);

    // Extras: the slowest expression for next() (short runs, one walk each at
    // least), so a regression can be traced to a shape of expression.
    double worst_ns = 0;
    std::size_t worst = 0;
    const double per_expr_time = std::max(0.01, opt.min_time_s / static_cast<double>(schedules.size()));
    for (std::size_t i = 0; i < schedules.size(); ++i) {
        const NextFigures f = bench_next({schedules[i]}, from, per_expr_time);
        if (opt.per_expr) {
            std::uint64_t ops = 0;
            const double p = bench_parse({exprs[i]}, per_expr_time, ops);
            std::fprintf(stderr, "parse %7.0f ns  next %7.0f ns  (%5llu calls/walk)  %s\n", p, f.ns_per_op,
                         static_cast<unsigned long long>(walk(schedules[i], from)), exprs[i].c_str());
        }
        if (f.ns_per_op > worst_ns) {
            worst_ns = f.ns_per_op;
            worst = i;
        }
    }
    std::printf("expressions %zu\n", exprs.size());
    std::printf("parse_ops %llu\n", static_cast<unsigned long long>(parse_ops));
    std::printf("next_ops %llu\n", static_cast<unsigned long long>(next.calls));
    print("next_ns_per_op_worst", worst_ns);
    std::printf("next_worst_expr %s\n", exprs[worst].c_str());
    return 0;
}
