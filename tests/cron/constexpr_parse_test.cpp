// The parser runs during constant evaluation: the same code will back
// "..."_cron literals.
#include <catch2/catch.hpp>

#include <array>
#include <chrono>

#include "support/cron_reference.hpp"
#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"

namespace constexpr_parse_test {

namespace {
using txflow::cron::ErrorCode;
using txflow::cron::Field;
using txflow::cron::Format;
using txflow::cron::parse_spec;
using txflow::cron::Spec;

constexpr auto kEveryFive = parse_spec("0 */5 * * * *");
static_assert(kEveryFive.has_value());
static_assert(kEveryFive->minutes == 0x0084'2108'4210'8421ULL);
static_assert(kEveryFive->seconds == 1);
static_assert(!kEveryFive->wall_clock_fixed());

constexpr auto kBadHour = parse_spec("0 0 25 * * *");
static_assert(!kBadHour.has_value());
static_assert(kBadHour.error().code == ErrorCode::out_of_range);
static_assert(kBadHour.error().field == Field::hour);
static_assert(kBadHour.error().column == 5);

static_assert(parse_spec("CRON_TZ=Europe/Berlin 30 2 * * MON-FRI")->zone_name() == "Europe/Berlin");
static_assert(parse_spec("0 0 1 * *", Format::seconds).error().code == ErrorCode::wrong_field_count);
static_assert(parse_spec("@every 1h30m")->every_ms == 5'400'000);

// Schedules parsed during constant evaluation mean what their text says: the
// brute-force reference (tests/support/cron_reference.hpp, which matches a
// Spec field by field without the library's algorithm) walks each one from
// 2026-01-01T00:00:00Z, and its fires are compared with fires worked out by
// hand from a calendar (2026-01-01 is a Thursday).
struct CompileTimeCase {
    const char* text;
    Spec spec;
    std::array<const char*, 3> first_fires;
};

constexpr std::array kCompileTimeCases{
    CompileTimeCase{"0 */5 * * * *",
                    parse_spec("0 */5 * * * *").value(),
                    {"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:15:00Z"}},
    // 02:30 in Berlin (UTC+1 in winter), weekdays: Thursday, Friday, then Monday.
    CompileTimeCase{"CRON_TZ=Europe/Berlin 30 2 * * MON-FRI",
                    parse_spec("CRON_TZ=Europe/Berlin 30 2 * * MON-FRI").value(),
                    {"2026-01-01T01:30:00Z", "2026-01-02T01:30:00Z", "2026-01-05T01:30:00Z"}},
    // The last weekday: January 31 and February 28 are Saturdays, March 31 a Tuesday.
    CompileTimeCase{"0 0 12 LW * ?",
                    parse_spec("0 0 12 LW * ?").value(),
                    {"2026-01-30T12:00:00Z", "2026-02-27T12:00:00Z", "2026-03-31T12:00:00Z"}},
    // The third Saturday.
    CompileTimeCase{"0 15 10 ? * 6#3",
                    parse_spec("0 15 10 ? * 6#3").value(),
                    {"2026-01-17T10:15:00Z", "2026-02-21T10:15:00Z", "2026-03-21T10:15:00Z"}},
    // Sunday midnight.
    CompileTimeCase{"@weekly",
                    parse_spec("@weekly").value(),
                    {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"}},
    CompileTimeCase{"0 0 0 1 1 ? 2030-2035",
                    parse_spec("0 0 0 1 1 ? 2030-2035").value(),
                    {"2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z", "2032-01-01T00:00:00Z"}},
};

}  // namespace

TEST_CASE("schedules parsed at compile time fire when their text says (brute-force reference)", "[cron][constexpr]") {
    namespace ref = txflow::cron_ref;
    for (const auto& c : kCompileTimeCases) {
        CAPTURE(c.text);
        const txflow::cron::Zone* zone = &txflow::cron::Zone::utc();
        if (!c.spec.zone_name().empty()) zone = txflow::cron::Zone::find(c.spec.zone_name());
        REQUIRE(zone != nullptr);
        auto after = ref::utc(2026, 1, 1);
        for (const char* want : c.first_fires) {
            const auto fire = ref::reference_next(c.spec, *zone, after, after + std::chrono::hours(24 * 366 * 7));
            REQUIRE(fire);
            CHECK(ref::utc_text(*fire) == want);
            after = *fire;
        }
    }
}

}  // namespace constexpr_parse_test
