// libFuzzer target for the cron parser and the fire search.
//
// Input: byte 0 picks the Format (byte % 4: '0' unix, '1' seconds, '2' quartz,
// '3' any, so a seed file reads "3*/5 * * * *"); the rest is the expression.
//
// For any input the library must not crash or hang. Beyond that, the target
// aborts (so libFuzzer reports it) when a documented property breaks:
//   - parse() and the constexpr parse_spec() agree: both accept (giving the
//     same Spec) or both reject; parse() may additionally reject an unknown zone;
//   - parse(s.to_string()) succeeds and gives a Schedule equal to s;
//   - next(t) is strictly after t, prev(t) strictly before t.
//
// Build and run: fuzz/run_fuzz.sh [seconds]

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"

namespace {

using namespace std::chrono;
using txflow::cron::Format;
using txflow::cron::Instant;
using txflow::cron::Schedule;

[[noreturn]] void fail(const char* property, std::string_view text, const std::string& detail) {
    std::fprintf(stderr, "\ncron_parse_fuzz: property broken: %s\n  input: \"%.*s\"\n  %s\n", property,
                 static_cast<int>(text.size()), text.data(), detail.c_str());
    std::abort();
}

constexpr Instant at(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    return time_point_cast<milliseconds>(sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss});
}

// 1970, now-ish, the 2026 US spring-forward gap and fall-back overlap (as seen
// from New York), a Europe one, and the end of the supported range.
const Instant kInstants[] = {
    at(1970, 1, 1),
    at(2026, 1, 1),
    at(2026, 3, 8, 7, 0, 0),     // 02:00 EST: the gap starts
    at(2026, 11, 1, 5, 30, 0),   // 01:30 EDT: inside the overlap
    at(2026, 3, 29, 0, 59, 59),  // just before Europe's spring-forward
    at(9999, 12, 31, 23, 59, 59),
};

std::string show(std::optional<Instant> t) {
    if (!t) return "none";
    return std::to_string(t->time_since_epoch().count()) + "ms";
}

void exercise(const Schedule& s, std::string_view text) {
    for (const Instant t : kInstants) {
        const std::optional<Instant> n = s.next(t);
        if (n && *n <= t) fail("next(t) > t", text, "t=" + show(t) + " next=" + show(n));
        const std::optional<Instant> p = s.prev(t);
        if (p && *p >= t) fail("prev(t) < t", text, "t=" + show(t) + " prev=" + show(p));
    }
    const std::string canonical = s.to_string();
    const std::string words = describe(s);
    (void)words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto format = static_cast<Format>(data[0] % 4);
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    // The constexpr parser, for every format; parse() must agree with it.
    for (int f = 0; f < 4; ++f) {
        const auto fmt = static_cast<Format>(f);
        const auto spec = txflow::cron::parse_spec(text, fmt);
        const auto sched = txflow::cron::parse(text, fmt);
        if (spec.has_value() != sched.has_value()) {
            const bool unknown_zone =
                spec.has_value() && !sched.has_value() && sched.error().code == txflow::cron::ErrorCode::unknown_zone;
            if (!unknown_zone) {
                fail("parse_spec and parse agree", text,
                     std::string("format ") + std::to_string(f) + ": parse_spec " +
                         (spec ? "accepts" : "rejects: " + spec.error().message()) + ", parse " +
                         (sched ? "accepts" : "rejects: " + sched.error().message()));
            }
        }
        if (spec && sched && !(spec.value() == sched->spec()))
            fail("parse_spec and parse agree", text, "format " + std::to_string(f) + ": different Spec");
        if (!spec) {
            const std::string m = spec.error().message();
            (void)m;
        }
    }

    const auto parsed = txflow::cron::parse(text, format);
    if (!parsed) {
        const std::string m = parsed.error().message();
        const std::string r = parsed.error().reason();
        (void)m;
        (void)r;
        return 0;
    }
    const Schedule& s = *parsed;

    // Round trip through the canonical text.
    const std::string canonical = s.to_string();
    const auto again = txflow::cron::parse(canonical);
    if (!again) fail("parse(to_string()) succeeds", text, "\"" + canonical + "\": " + again.error().message());
    if (!(*again == s)) {
        fail("parse(to_string()) == s", text,
             "\"" + canonical + "\" -> \"" + again->to_string() + "\"" +
                 (again->spec() == s.spec() ? " (same Spec, different zone)" : " (different Spec)"));
    }

    // As parsed (UTC or the prefix's zone), then in New York (a prefix wins).
    exercise(s, text);
    static const txflow::cron::Zone* const new_york = txflow::cron::Zone::find("America/New_York");
    if (new_york == nullptr) {
        std::fprintf(stderr, "cron_parse_fuzz: no America/New_York in the tz database (install tzdata)\n");
        std::abort();
    }
    exercise(s.in_zone(*new_york), text);
    return 0;
}
