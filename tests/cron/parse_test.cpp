// The cron parser: every accepted form (checked through the Spec bitsets and
// through next()), every error class (code, field, position, message), the
// to_string() round trip, and calendar edges (leap days, month ends, W, L).

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/cron_fires.hpp"
#include "support/cron_gen.hpp"
#include "support/cron_reference.hpp"
#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"

namespace parse_test {

namespace {

using namespace std::chrono_literals;
using txflow::cron::ErrorCode;
using txflow::cron::Field;
using txflow::cron::Format;
using txflow::cron::Instant;
using txflow::cron::Kind;
using txflow::cron::parse;
using txflow::cron::ParseError;
using txflow::cron::Schedule;
using txflow::cron::Spec;
using txflow::cron::Zone;
namespace ref = txflow::cron_ref;

constexpr std::uint64_t bits(std::initializer_list<int> values) {
    std::uint64_t out = 0;
    for (int v : values) out |= std::uint64_t{1} << v;
    return out;
}
constexpr std::uint64_t range_bits(int lo, int hi, int step = 1) {
    std::uint64_t out = 0;
    for (int v = lo; v <= hi; v += step) out |= std::uint64_t{1} << v;
    return out;
}

Spec spec_of(std::string_view text, Format format = Format::any) {
    auto r = parse(text, format);
    INFO("text: " << text);
    if (!r) FAIL("rejected: " << r.error().message());
    return r->spec();
}

Schedule sched(std::string_view text, const char* zone = nullptr) {
    auto r = parse(text);
    INFO("text: " << text);
    if (!r) FAIL("rejected: " << r.error().message());
    if (zone == nullptr) return *r;
    const Zone* z = Zone::find(zone);
    REQUIRE(z != nullptr);
    return r->in_zone(*z);
}

ParseError error_of(std::string_view text, Format format = Format::any) {
    auto r = parse(text, format);
    INFO("text: " << text);
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

using txflow::cron_test::fires;

using V = std::vector<std::string>;

}  // namespace

// ------------------------------------------------------------------ accepted forms

TEST_CASE("five-field expressions fill the bitsets", "[cron][parse]") {
    const Spec s = spec_of("*/15 0-6/2,23 1,15 JAN-mar,dec MON-fri");
    CHECK(s.kind == Kind::cron);
    CHECK(s.seconds == bits({0}));
    CHECK(s.minutes == bits({0, 15, 30, 45}));
    CHECK(s.hours == bits({0, 2, 4, 6, 23}));
    CHECK(s.days_of_month == bits({1, 15}));
    CHECK(s.months == bits({1, 2, 3, 12}));
    CHECK(s.days_of_week == range_bits(1, 5));
    CHECK_FALSE(s.dom_any);
    CHECK_FALSE(s.dow_any);
    CHECK(s.star_fields == 0b010);  // minute written with '*'
    CHECK_FALSE(s.wall_clock_fixed());
    CHECK(s.years_any);
    CHECK(s.zone_name().empty());

    const Spec all = spec_of("* * * * *");
    CHECK(all.seconds == bits({0}));
    CHECK(all.minutes == range_bits(0, 59));
    CHECK(all.hours == range_bits(0, 23));
    CHECK(all.days_of_month == range_bits(1, 31));
    CHECK(all.months == range_bits(1, 12));
    CHECK(all.days_of_week == range_bits(0, 6));
    CHECK(all.dom_any);
    CHECK(all.dow_any);
    CHECK(all.star_fields == 0b110);

    const Spec fixed = spec_of("30 2 * * *");
    CHECK(fixed.star_fields == 0);
    CHECK(fixed.wall_clock_fixed());
}

TEST_CASE("six- and seven-field expressions start with seconds; the seventh is the year", "[cron][parse]") {
    const Spec s = spec_of("5/20 30 2 * * ?");
    CHECK(s.seconds == bits({5, 25, 45}));
    CHECK(s.minutes == bits({30}));
    CHECK(s.hours == bits({2}));
    CHECK(s.dow_any);
    CHECK(s.star_fields == 0);

    const Spec y = spec_of("0 0 12 ? * WED 2030,2032-2034,2099");
    CHECK_FALSE(y.years_any);
    for (int year = 1970; year <= 2099; ++year) {
        INFO(year);
        CHECK(y.year_allowed(year) == (year == 2030 || (year >= 2032 && year <= 2034) || year == 2099));
    }
    CHECK_FALSE(y.year_allowed(2100));
    CHECK(y.days_of_week == bits({3}));

    const Spec star_seconds = spec_of("* 0 0 * * *");
    CHECK(star_seconds.star_fields == 0b001);
    CHECK(star_seconds.seconds == range_bits(0, 59));

    // The year field restricts fires: first Wednesday noon in 2030 (UTC).
    const Schedule sy = sched("0 0 12 ? * WED 2030,2032-2034,2099");
    CHECK(ref::opt_text(sy.next(ref::utc(2026, 1, 1))) == "2030-01-02T12:00:00Z");
    CHECK(ref::opt_text(sy.next(ref::utc(2030, 12, 31))) == "2032-01-07T12:00:00Z");
    CHECK(ref::opt_text(sy.prev(ref::utc(2099, 1, 1))) == "2034-12-27T12:00:00Z");
    CHECK(ref::opt_text(sy.next(ref::utc(2099, 12, 30, 12))) == "nullopt");
}

TEST_CASE("formats accept exactly their field counts", "[cron][parse]") {
    CHECK(parse("* * * * *", Format::unix_).has_value());
    CHECK(parse("* * * * * *", Format::seconds).has_value());
    CHECK(parse("* * * * * *", Format::quartz).has_value());
    CHECK(parse("* * * * * * 2030", Format::quartz).has_value());
    CHECK(parse("* * * * *", Format::any).has_value());
    CHECK(parse("* * * * * *", Format::any).has_value());
    CHECK(parse("* * * * * * *", Format::any).has_value());

    struct Bad {
        const char* text;
        Format format;
        int seen, lo, hi;
    };
    for (const Bad& b : {Bad{"* * * * * *", Format::unix_, 6, 5, 5}, Bad{"* * * *", Format::unix_, 4, 5, 5},
                         Bad{"* * * * *", Format::seconds, 5, 6, 6}, Bad{"* * * * * * *", Format::seconds, 7, 6, 6},
                         Bad{"* * * * *", Format::quartz, 5, 6, 7}, Bad{"* * * * * * * *", Format::quartz, 8, 6, 7},
                         Bad{"* * * *", Format::any, 4, 5, 7}, Bad{"* * * * * * * *", Format::any, 8, 5, 7},
                         Bad{"*", Format::any, 1, 5, 7}}) {
        INFO(b.text << " format " << int(b.format));
        const ParseError e = error_of(b.text, b.format);
        CHECK(e.code == ErrorCode::wrong_field_count);
        CHECK(e.value == b.seen);
        CHECK(e.lo == b.lo);
        CHECK(e.hi == b.hi);
        CHECK(e.field == Field::none);
    }

    // Five fields mean the same under unix_ and any.
    CHECK(spec_of("5 4 * * 1", Format::unix_) == spec_of("5 4 * * 1"));
    CHECK(spec_of("0 5 4 * * 1", Format::seconds) == spec_of("0 5 4 * * 1", Format::quartz));
    CHECK(spec_of("0 5 4 * * 1") == spec_of("5 4 * * 1"));
}

TEST_CASE("names are case-insensitive; 0 and 7 are Sunday", "[cron][parse]") {
    CHECK(spec_of("0 0 * jan *").months == bits({1}));
    CHECK(spec_of("0 0 * Jan *") == spec_of("0 0 * JAN *"));
    CHECK(spec_of("0 0 * jAn-MaR *").months == bits({1, 2, 3}));
    CHECK(spec_of("0 0 * * sun") == spec_of("0 0 * * 0"));
    CHECK(spec_of("0 0 * * 7") == spec_of("0 0 * * 0"));
    CHECK(spec_of("0 0 * * 7").days_of_week == bits({0}));
    CHECK(spec_of("0 0 * * 5-7").days_of_week == bits({0, 5, 6}));
    CHECK(spec_of("0 0 * * 0-7").days_of_week == range_bits(0, 6));
    CHECK(spec_of("0 0 * * Mon,wed,FRI").days_of_week == bits({1, 3, 5}));
    const char* months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    for (int m = 1; m <= 12; ++m) {
        CHECK(spec_of(std::string("0 0 1 ") + months[m - 1] + " *").months == bits({m}));
    }
    const char* days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
    for (int d = 0; d < 7; ++d) CHECK(spec_of(std::string("0 0 * * ") + days[d]).days_of_week == bits({d}));

    // Sunday 7 fires on Sundays.
    CHECK(fires(sched("0 9 * * 7"), ref::utc(2026, 3, 1), 2) == V{"2026-03-01T09:00:00Z", "2026-03-08T09:00:00Z"});
}

TEST_CASE("steps: a/s, a-b/s and */s", "[cron][parse]") {
    CHECK(spec_of("5/15 * * * *").minutes == bits({5, 20, 35, 50}));
    CHECK(spec_of("10-40/10 * * * *").minutes == bits({10, 20, 30, 40}));
    CHECK(spec_of("*/25 * * * *").minutes == bits({0, 25, 50}));
    CHECK(spec_of("0 */5 * * *").hours == bits({0, 5, 10, 15, 20}));
    CHECK(spec_of("0 0 */10 * *").days_of_month == bits({1, 11, 21, 31}));
    CHECK(spec_of("0 0 1 */4 *").months == bits({1, 5, 9}));
    CHECK(spec_of("0 0 * * */2").days_of_week == bits({0, 2, 4, 6}));
    CHECK(spec_of("5/15 * * * *").star_fields == 0b100);  // the hour's '*', not the minute's 5/15
    CHECK(spec_of("5/15 3 * * *").star_fields == 0);
    CHECK(fires(sched("5/15 * * * *"), ref::utc(2026, 1, 1), 5) == V{"2026-01-01T00:05:00Z", "2026-01-01T00:20:00Z",
                                                                     "2026-01-01T00:35:00Z", "2026-01-01T00:50:00Z",
                                                                     "2026-01-01T01:05:00Z"});
}

TEST_CASE("'?' means any day in day-of-month and day-of-week", "[cron][parse]") {
    CHECK(spec_of("0 0 ? * MON") == spec_of("0 0 * * MON"));
    CHECK(spec_of("0 0 1 * ?") == spec_of("0 0 1 * *"));
    CHECK(spec_of("0 0 0 ? * MON") == spec_of("0 0 0 * * MON"));
    const Spec s = spec_of("0 0 ? * MON");
    CHECK(s.dom_any);
    CHECK(s.days_of_month == range_bits(1, 31));
}

TEST_CASE("day-of-month and day-of-week: both restricted means either (Vixie)", "[cron][parse]") {
    // 13th or any Friday, February 2026.
    CHECK(fires(sched("0 0 13 * 5"), ref::utc(2026, 2, 1), 5) == V{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z",
                                                                   "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z",
                                                                   "2026-03-06T00:00:00Z"});
    // Only dom restricted: the 13th.
    CHECK(fires(sched("0 0 13 * *"), ref::utc(2026, 2, 1), 2) == V{"2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z"});
    // Only dow restricted: Fridays.
    CHECK(fires(sched("0 0 * * 5"), ref::utc(2026, 2, 1), 2) == V{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"});
    // '?' unrestricts: Fridays only.
    CHECK(fires(sched("0 0 0 ? * 5"), ref::utc(2026, 2, 1), 2) == V{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"});
    // L (dom side) or Friday (dow side).
    CHECK(fires(sched("0 0 L * FRI"), ref::utc(2026, 2, 21), 3) ==
          V{"2026-02-27T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-06T00:00:00Z"});
}

TEST_CASE("descriptors", "[cron][parse]") {
    CHECK(spec_of("@yearly") == spec_of("0 0 1 1 *"));
    CHECK(spec_of("@annually") == spec_of("0 0 1 1 *"));
    CHECK(spec_of("@monthly") == spec_of("0 0 1 * *"));
    CHECK(spec_of("@weekly") == spec_of("0 0 * * 0"));
    CHECK(spec_of("@daily") == spec_of("0 0 * * *"));
    CHECK(spec_of("@midnight") == spec_of("0 0 * * *"));
    CHECK(spec_of("@hourly") == spec_of("0 * * * *"));
    CHECK(spec_of("@DAILY") == spec_of("@daily"));
    CHECK(fires(sched("@yearly"), ref::utc(2026, 5, 5), 2) == V{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"});
    CHECK(fires(sched("@weekly"), ref::utc(2026, 3, 4), 2) == V{"2026-03-08T00:00:00Z", "2026-03-15T00:00:00Z"});
    CHECK(fires(sched("@hourly"), ref::utc(2026, 3, 4, 5, 0, 0, 1), 2) ==
          V{"2026-03-04T06:00:00Z", "2026-03-04T07:00:00Z"});
    // In a zone: midnight local.
    CHECK(fires(sched("@daily", "America/New_York"), ref::utc(2026, 3, 7, 12), 3) ==
          V{"2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", "2026-03-10T04:00:00Z"});
}

TEST_CASE("@every adds its duration exactly, in any zone", "[cron][parse]") {
    struct Case {
        const char* text;
        std::int64_t ms;
    };
    for (const Case& c : {Case{"@every 90s", 90'000}, Case{"@every 1h30m", 5'400'000}, Case{"@every 250ms", 250},
                          Case{"@every 1h", 3'600'000}, Case{"@every 2m", 120'000}, Case{"@every 1h0m0.5s", 3'600'500},
                          Case{"@every 36h", 129'600'000}}) {
        INFO(c.text);
        const Spec s = spec_of(c.text);
        CHECK(s.kind == Kind::every);
        CHECK(s.every_ms == c.ms);
        for (const char* zone : {"UTC", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham"}) {
            INFO(zone);
            const Schedule sc = sched(c.text, zone);
            for (const Instant t : {ref::utc(2026, 3, 8, 6, 59, 59, 999), ref::utc(2026, 11, 1, 5, 30, 0, 1),
                                    ref::utc(2026, 10, 3, 15, 29, 0, 123), ref::utc(2026, 9, 26, 13, 59, 30),
                                    ref::utc(2041, 3, 10, 6, 45, 0, 7)}) {
                INFO(ref::utc_text(t));
                const auto n = sc.next(t);
                REQUIRE(n);
                CHECK(ref::utc_text(*n) == ref::utc_text(t + std::chrono::milliseconds{c.ms}));
            }
        }
    }
}

TEST_CASE("CRON_TZ= and TZ= prefixes name the schedule's zone", "[cron][parse]") {
    for (const char* text : {"CRON_TZ=America/New_York 30 2 * * *", "TZ=America/New_York 30 2 * * *"}) {
        INFO(text);
        auto r = parse(text);
        REQUIRE(r);
        CHECK(r->spec().zone_name() == "America/New_York");
        CHECK(r->zone().name() == "America/New_York");
        // The prefix wins over in_zone().
        CHECK(r->in_zone(Zone::utc()).zone().name() == "America/New_York");
        CHECK(fires(*r, ref::utc(2026, 3, 7, 12), 2) == V{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
        // Otherwise the same fields as without the prefix.
        Spec without = spec_of("30 2 * * *");
        Spec with = r->spec();
        with.zone = {};
        CHECK(with == without);
    }
    auto plain = parse("30 2 * * *");
    REQUIRE(plain);
    CHECK(plain->zone().is_utc());
    CHECK(fires(*plain, ref::utc(2026, 3, 7, 12), 1) == V{"2026-03-08T02:30:00Z"});
    CHECK(spec_of("CRON_TZ=Europe/Berlin @daily").zone_name() == "Europe/Berlin");
    CHECK(fires(sched("CRON_TZ=Europe/Berlin @daily"), ref::utc(2026, 3, 28, 12), 2) ==
          V{"2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"});
    CHECK(spec_of("CRON_TZ=Pacific/Chatham 0 0 12 * * ? 2030").zone_name() == "Pacific/Chatham");
}

TEST_CASE("zone prefixes are upper case only, with a hint for any other spelling", "[cron][parse][errors]") {
    for (const char* text : {"cron_tz=UTC 0 0 * * *", "Cron_Tz=UTC 0 0 * * *", "tz=UTC 0 0 * * *", "Tz=UTC @daily"}) {
        INFO(text);
        const ParseError e = error_of(text);
        CHECK(e.code == ErrorCode::zone_prefix_case);
        CHECK(int{e.column} == 1);
        CHECK(e.field == Field::none);
    }
    CHECK(error_of("cron_tz=UTC 0 0 * * *").message() ==
          "col 1: time zone prefix \"cron_tz=\" must be upper case (did you mean CRON_TZ=?)");
    CHECK(error_of("  tz=UTC 0 0 * * *").message() ==
          "col 3: time zone prefix \"tz=\" must be upper case (did you mean TZ=?)");
    // The upper-case prefixes still parse.
    CHECK(spec_of("CRON_TZ=UTC 0 0 * * *").zone_name() == "UTC");
    CHECK(spec_of("TZ=UTC 0 0 * * *").zone_name() == "UTC");
    // Also at compile time, the path of "..."_cron literals.
    constexpr auto lower = txflow::cron::parse_spec("cron_tz=UTC 0 0 * * *");
    static_assert(!lower.has_value());
    static_assert(lower.error().code == ErrorCode::zone_prefix_case);
    static_assert(lower.error().column == 1);
    constexpr auto upper = txflow::cron::parse_spec("CRON_TZ=UTC 0 0 * * *");
    static_assert(upper.has_value());
}

// ------------------------------------------------------------------ errors

TEST_CASE("the canonical error message", "[cron][parse][errors]") {
    const ParseError e = error_of("0 0 25 * * *");
    CHECK(e.code == ErrorCode::out_of_range);
    CHECK(e.field == Field::hour);
    CHECK(e.field_number == 3);
    CHECK(e.column == 5);
    CHECK(e.value == 25);
    CHECK(e.lo == 0);
    CHECK(e.hi == 23);
    CHECK(e.message() == "hour (field 3, col 5): 25 is out of range 0-23");
    CHECK(e.reason() == "25 is out of range 0-23");
}

TEST_CASE("out-of-range values name their field and column", "[cron][parse][errors]") {
    struct Case {
        const char* text;
        Field field;
        int number, column, value, lo, hi;
        const char* message;
    };
    for (const Case& c : {
             Case{"60 * * * *", Field::minute, 1, 1, 60, 0, 59, "minute (field 1, col 1): 60 is out of range 0-59"},
             Case{"0 24 * * *", Field::hour, 2, 3, 24, 0, 23, "hour (field 2, col 3): 24 is out of range 0-23"},
             Case{"0 0 0 * *", Field::day_of_month, 3, 5, 0, 1, 31,
                  "day-of-month (field 3, col 5): 0 is out of range 1-31"},
             Case{"0 0 32 * *", Field::day_of_month, 3, 5, 32, 1, 31,
                  "day-of-month (field 3, col 5): 32 is out of range 1-31"},
             Case{"0 0 1 13 *", Field::month, 4, 7, 13, 1, 12, "month (field 4, col 7): 13 is out of range 1-12"},
             Case{"0 0 1 0 *", Field::month, 4, 7, 0, 1, 12, "month (field 4, col 7): 0 is out of range 1-12"},
             Case{"0 0 * * 8", Field::day_of_week, 5, 9, 8, 0, 7,
                  "day-of-week (field 5, col 9): 8 is out of range 0-7"},
             Case{"61 0 0 * * *", Field::second, 1, 1, 61, 0, 59, "second (field 1, col 1): 61 is out of range 0-59"},
             Case{"0 0 0 1 1 ? 2100", Field::year, 7, 13, 2100, 1970, 2099,
                  "year (field 7, col 13): 2100 is out of range 1970-2099"},
             Case{"0 0 0 1 1 ? 1969", Field::year, 7, 13, 1969, 1970, 2099,
                  "year (field 7, col 13): 1969 is out of range 1970-2099"},
             // The column points at the offending value inside a list or range.
             Case{"0 5,70 * * *", Field::hour, 2, 5, 70, 0, 23, "hour (field 2, col 5): 70 is out of range 0-23"},
             Case{"0 0 * 1-13 *", Field::month, 4, 9, 13, 1, 12, "month (field 4, col 9): 13 is out of range 1-12"},
         }) {
        INFO(c.text);
        const ParseError e = error_of(c.text);
        CHECK(e.code == ErrorCode::out_of_range);
        CHECK(e.field == c.field);
        CHECK(int{e.field_number} == c.number);
        CHECK(int{e.column} == c.column);
        CHECK(e.value == c.value);
        CHECK(e.lo == c.lo);
        CHECK(e.hi == c.hi);
        CHECK(e.message() == c.message);
    }
}

TEST_CASE("each error class has its code, field and position", "[cron][parse][errors]") {
    struct Case {
        const char* text;
        ErrorCode code;
        Field field;
        int number;  // field_number
        int column;
        const char* token;  // expected in message() (nullptr: not checked)
    };
    for (const Case& c : {
             Case{"0 5-2 * * *", ErrorCode::reversed_range, Field::hour, 2, 3, nullptr},
             Case{"0 0 20-10 * *", ErrorCode::reversed_range, Field::day_of_month, 3, 5, nullptr},
             Case{"*/0 * * * *", ErrorCode::zero_step, Field::minute, 1, 3, nullptr},
             Case{"0 0 1-5/0 * *", ErrorCode::zero_step, Field::day_of_month, 3, 9, nullptr},
             Case{"1,,2 * * * *", ErrorCode::empty_item, Field::minute, 1, 0, nullptr},
             Case{",1 * * * *", ErrorCode::empty_item, Field::minute, 1, 0, nullptr},
             Case{"0 1, * * *", ErrorCode::empty_item, Field::hour, 2, 0, nullptr},
             Case{"0 0 % * *", ErrorCode::unexpected_character, Field::day_of_month, 3, 5, "%"},
             Case{"0 0 * * 1%", ErrorCode::unexpected_character, Field::day_of_week, 5, 10, "%"},
             Case{"0 0 * JANX *", ErrorCode::unknown_name, Field::month, 4, 7, "JANX"},
             Case{"0 0 * * FOO", ErrorCode::unknown_name, Field::day_of_week, 5, 9, "FOO"},
             Case{"0 0 * * JAN", ErrorCode::unknown_name, Field::day_of_week, 5, 9, "JAN"},
             Case{"0 0 * MON *", ErrorCode::unknown_name, Field::month, 4, 7, "MON"},
             Case{"? * * * *", ErrorCode::question_mark_not_allowed, Field::minute, 1, 1, nullptr},
             Case{"0 0 * ? *", ErrorCode::question_mark_not_allowed, Field::month, 4, 7, nullptr},
             Case{"0 0 * * 5#6", ErrorCode::bad_nth, Field::day_of_week, 5, 11, nullptr},
             Case{"0 0 * * FRI#0", ErrorCode::bad_nth, Field::day_of_week, 5, 13, nullptr},
             Case{"L * * * *", ErrorCode::special_not_allowed, Field::minute, 1, 0, nullptr},
             Case{"0 0 * * 5W", ErrorCode::special_not_allowed, Field::day_of_week, 5, 0, nullptr},
             Case{"0 0 * * L", ErrorCode::ambiguous_last, Field::day_of_week, 5, 9, nullptr},
             Case{"0 0 99999999999 * *", ErrorCode::number_too_large, Field::day_of_month, 3, 5, "99999999999"},
         }) {
        INFO(c.text);
        const ParseError e = error_of(c.text);
        INFO("message: " << e.message());
        CHECK(e.code == c.code);
        CHECK(e.field == c.field);
        CHECK(int{e.field_number} == c.number);
        if (c.column != 0) CHECK(int{e.column} == c.column);
        CHECK(e.column >= 1);
        CHECK(e.column <= std::string_view(c.text).size());
        // Field errors use the documented prefix.
        const std::string prefix = std::string(txflow::cron::field_name(c.field)) + " (field " +
                                   std::to_string(c.number) + ", col " + std::to_string(e.column) + "): ";
        CHECK(e.message().rfind(prefix, 0) == 0);
        CHECK(e.message() == prefix + e.reason());
        if (c.token) CHECK_THAT(e.message(), Catch::Contains(c.token));
    }
    // Step and nth values are reported.
    CHECK(error_of("0 0 * * 5#6").value == 6);
    CHECK(error_of("0 5-2 * * *").value == 5);
    CHECK(error_of("0 5-2 * * *").hi == 2);
}

TEST_CASE("errors not tied to a field", "[cron][parse][errors]") {
    struct Case {
        const char* text;
        ErrorCode code;
        int column;         // 0: not checked
        const char* token;  // expected in message() (nullptr: not checked)
    };
    for (const Case& c : {
             Case{"", ErrorCode::empty_expression, 0, nullptr},
             Case{"   ", ErrorCode::empty_expression, 0, nullptr},
             Case{"* * * *", ErrorCode::wrong_field_count, 0, nullptr},
             Case{"@fortnightly", ErrorCode::unknown_descriptor, 1, "@fortnightly"},
             Case{"@", ErrorCode::unknown_descriptor, 1, nullptr},
             Case{"CRON_TZ=Mars/Olympus 0 0 * * *", ErrorCode::unknown_zone, 9, "Mars/Olympus"},
             Case{"TZ=Mars/Olympus 0 0 * * *", ErrorCode::unknown_zone, 4, "Mars/Olympus"},
             Case{"CRON_TZ=Europe/Ber$lin 0 0 * * *", ErrorCode::bad_zone_name, 0, nullptr},
             Case{"CRON_TZ= 0 0 * * *", ErrorCode::bad_zone_name, 0, nullptr},
             Case{"CRON_TZ=UTC", ErrorCode::missing_expression, 0, "UTC"},
             Case{"CRON_TZ=Europe/Berlin   ", ErrorCode::missing_expression, 0, "Europe/Berlin"},
             Case{"@every", ErrorCode::bad_duration, 0, nullptr},
             Case{"@every 90x", ErrorCode::bad_duration, 0, "x"},
             Case{"@every 1h30", ErrorCode::bad_duration, 0, nullptr},
             Case{"@every h", ErrorCode::bad_duration, 0, nullptr},
             Case{"@every 0s", ErrorCode::duration_not_positive, 8, "0s"},
             Case{"@every 0h0m", ErrorCode::duration_not_positive, 8, nullptr},
             Case{"@every 1500us", ErrorCode::duration_sub_millisecond, 8, "1500us"},
             Case{"@every 1ns", ErrorCode::duration_sub_millisecond, 8, "1ns"},
             Case{"@daily extra", ErrorCode::unexpected_character, 8, "extra"},
         }) {
        INFO("text: \"" << c.text << "\"");
        const ParseError e = error_of(c.text);
        INFO("message: " << e.message());
        CHECK(e.code == c.code);
        if (c.column != 0) CHECK(int{e.column} == c.column);
        if (c.token) CHECK_THAT(e.message(), Catch::Contains(c.token));
        CHECK_FALSE(e.message().empty());
    }
    // A path outside the zone database is refused one way or the other.
    const ParseError traversal = error_of("CRON_TZ=../../etc/passwd 0 0 * * *");
    CHECK((traversal.code == ErrorCode::bad_zone_name || traversal.code == ErrorCode::unknown_zone));
    const ParseError abs = error_of("CRON_TZ=/etc/localtime 0 0 * * *");
    CHECK((abs.code == ErrorCode::bad_zone_name || abs.code == ErrorCode::unknown_zone));
}

TEST_CASE("the parser runs during constant evaluation", "[cron][parse]") {
    constexpr auto ok = txflow::cron::parse_spec("0 30 2 * * MON-FRI");
    static_assert(ok.has_value());
    static_assert(ok.value().minutes == (std::uint64_t{1} << 30));
    static_assert(ok.value().days_of_week == 0b0111110);
    constexpr auto bad = txflow::cron::parse_spec("0 0 25 * * *");
    static_assert(!bad.has_value());
    static_assert(bad.error().code == ErrorCode::out_of_range);
    static_assert(bad.error().column == 5);
    // The run-time parse() agrees with parse_spec().
    CHECK(spec_of("0 30 2 * * MON-FRI") == ok.value());
}

// ------------------------------------------------------------------ round trip

TEST_CASE("to_string() round-trips random expressions", "[cron][parse]") {
    txflow::cron_gen::Generator g(424242u);
    const char* zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham"};
    for (int i = 0; i < 3000; ++i) {
        std::string text = g.expression().text;
        if (g.chance(20)) text = std::string("CRON_TZ=") + zones[g.uniform(0, 3)] + " " + text;
        INFO("#" << i << " \"" << text << "\"");
        auto s = parse(text);
        if (!s) FAIL("rejected: " << s.error().message());
        const std::string canon = s->to_string();
        INFO("to_string: \"" << canon << "\"");
        auto again = parse(canon);
        if (!again) FAIL("canonical text rejected: " << again.error().message());
        CHECK(*again == *s);
        CHECK(again->spec() == s->spec());
        CHECK(again->to_string() == canon);
    }
    for (const char* text : {"@yearly", "@monthly", "@weekly", "@daily", "@hourly", "@every 90s", "@every 1h30m",
                             "@every 250ms", "@every 36h", "CRON_TZ=Europe/Berlin @every 5m", "0 0 L * *",
                             "0 0 L-3 * *", "0 0 LW * *", "0 0 15W * *", "0 0 * * 5L", "0 0 * * FRI#3",
                             "0 0 12 ? * WED 2030,2032-2034", "0 0 29 2 *", "TZ=Pacific/Chatham 0 45 2 * * *"}) {
        INFO(text);
        auto s = parse(text);
        REQUIRE(s);
        auto again = parse(s->to_string());
        INFO("to_string: \"" << s->to_string() << "\"");
        REQUIRE(again);
        CHECK(*again == *s);
    }
}

// ------------------------------------------------------------------ calendar edges

TEST_CASE("a schedule that can never fire returns nullopt", "[cron][parse]") {
    for (const char* text :
         {"0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *", "0 0 0 30 2 ? *", "0 0 0 31 11 ? 2030"}) {
        INFO(text);
        const Schedule s = sched(text);
        CHECK_FALSE(s.next(ref::utc(2026, 1, 1)).has_value());
        CHECK_FALSE(s.prev(ref::utc(2026, 1, 1)).has_value());
        CHECK_FALSE(sched(text, "America/New_York").next(ref::utc(2026, 1, 1)).has_value());
    }
    // Years all in the past.
    CHECK_FALSE(sched("0 0 0 1 1 ? 2020").next(ref::utc(2026, 1, 1)).has_value());
    CHECK(ref::opt_text(sched("0 0 0 1 1 ? 2020").prev(ref::utc(2026, 1, 1))) == "2020-01-01T00:00:00Z");
}

TEST_CASE("leap days", "[cron][parse]") {
    const Schedule s = sched("0 0 29 2 *");
    CHECK(fires(s, ref::utc(2096, 3, 1), 2) == V{"2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z"});
    CHECK(ref::opt_text(s.prev(ref::utc(2104, 2, 28))) == "2096-02-29T00:00:00Z");
    CHECK(fires(s, ref::utc(2396, 3, 1), 2) == V{"2400-02-29T00:00:00Z", "2404-02-29T00:00:00Z"});
    CHECK(fires(s, ref::utc(2024, 2, 29), 1) == V{"2028-02-29T00:00:00Z"});
    // Last day of February.
    CHECK(fires(sched("0 0 L 2 *"), ref::utc(2099, 3, 1), 3) ==
          V{"2100-02-28T00:00:00Z", "2101-02-28T00:00:00Z", "2102-02-28T00:00:00Z"});
    CHECK(fires(sched("0 0 L 2 *"), ref::utc(2399, 3, 1), 1) == V{"2400-02-29T00:00:00Z"});
}

TEST_CASE("month and year ends", "[cron][parse]") {
    CHECK(fires(sched("0 0 L * *"), ref::utc(2026, 1, 31), 4) ==
          V{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"});
    CHECK(fires(sched("0 0 L * *"), ref::utc(2028, 1, 31, 0, 0, 0, 1), 1) == V{"2028-02-29T00:00:00Z"});
    CHECK(fires(sched("0 0 L-3 * *"), ref::utc(2026, 1, 31), 3) ==
          V{"2026-02-25T00:00:00Z", "2026-03-28T00:00:00Z", "2026-04-27T00:00:00Z"});
    CHECK(fires(sched("0 0 L-30 * *"), ref::utc(2026, 1, 1), 3) ==
          V{"2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z"});
    // LW: last weekday. Jan 2026 ends on a Saturday, Feb on a Saturday, May on a Sunday.
    CHECK(fires(sched("0 0 LW * *"), ref::utc(2026, 1, 1), 5) == V{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z",
                                                                   "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z",
                                                                   "2026-05-29T00:00:00Z"});
    // Year end.
    CHECK(fires(sched("59 23 31 12 *"), ref::utc(2026, 6, 1), 2) == V{"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"});
    CHECK(fires(sched("0 0 1 1 *"), ref::utc(2026, 12, 31, 23, 59, 59, 999), 1) == V{"2027-01-01T00:00:00Z"});
    CHECK(ref::opt_text(sched("0 0 1 1 *").prev(ref::utc(2027, 1, 1))) == "2026-01-01T00:00:00Z");
    CHECK(ref::opt_text(sched("59 59 23 31 12 *").prev(ref::utc(2027, 1, 1))) == "2026-12-31T23:59:59Z");
}

TEST_CASE("nearest weekday (W) stays inside the month", "[cron][parse]") {
    // 2026-08-01 is a Saturday: 1W is Monday the 3rd, not Friday July 31.
    CHECK(fires(sched("0 0 1W * *"), ref::utc(2026, 7, 15), 2) == V{"2026-08-03T00:00:00Z", "2026-09-01T00:00:00Z"});
    // 2026-05-31 is a Sunday: 31W is Friday the 29th, not Monday June 1.
    CHECK(fires(sched("0 0 31W * *"), ref::utc(2026, 5, 1), 2) == V{"2026-05-29T00:00:00Z", "2026-07-31T00:00:00Z"});
    // 15W: 2026-08-15 is a Saturday -> Friday 14th; 2026-02-15 a Sunday -> Monday 16th.
    CHECK(fires(sched("0 0 15W * *"), ref::utc(2026, 8, 1), 1) == V{"2026-08-14T00:00:00Z"});
    CHECK(fires(sched("0 0 15W * *"), ref::utc(2026, 2, 1), 1) == V{"2026-02-16T00:00:00Z"});
    // 30W skips February; 2029-09-30 is a Sunday -> Friday 28th.
    CHECK(fires(sched("0 0 30W * *"), ref::utc(2029, 9, 1), 1) == V{"2029-09-28T00:00:00Z"});
    CHECK(fires(sched("0 0 30W 2 *"), ref::utc(2026, 1, 1), 1) == V{"nullopt"});
    // 31W fires only in 31-day months.
    CHECK(fires(sched("0 0 31W * *"), ref::utc(2026, 4, 1), 1) == V{"2026-05-29T00:00:00Z"});
}

TEST_CASE("last and n-th weekday of the month", "[cron][parse]") {
    // Last Friday: 2026-01-30, 2026-02-27.
    CHECK(fires(sched("0 0 * * 5L"), ref::utc(2026, 1, 1), 2) == V{"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"});
    // Third Friday: 2026-01-16, 2026-02-20.
    CHECK(fires(sched("0 0 * * FRI#3"), ref::utc(2026, 1, 1), 2) == V{"2026-01-16T00:00:00Z", "2026-02-20T00:00:00Z"});
    // Fifth Sunday (7#5): March 2026 has one (29th), April 2026 does not; May 31 2026.
    CHECK(fires(sched("0 0 * * 7#5"), ref::utc(2026, 3, 1), 2) == V{"2026-03-29T00:00:00Z", "2026-05-31T00:00:00Z"});
    // Last Sunday of March and October: EU DST days.
    CHECK(fires(sched("0 0 * 3,10 0L"), ref::utc(2026, 1, 1), 2) == V{"2026-03-29T00:00:00Z", "2026-10-25T00:00:00Z"});
}

}  // namespace parse_test
