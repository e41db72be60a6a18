// DST behaviour on explicit fixtures (ISC cron rules, see schedule.hpp):
// wall-clock fixed schedules fire once in a spring-forward gap (at the first
// instant after it) and once in a fall-back overlap (the first occurrence);
// interval-like schedules skip missing local times and fire at every real
// occurrence of repeated ones. Transition instants were checked with zdump and
// Python's zoneinfo (whose POSIX-rule code is independent of ours).

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "support/cron_fires.hpp"
#include "support/cron_reference.hpp"
#include "txflow/cron/schedule.hpp"

namespace dst_test {

namespace {

using namespace std::chrono_literals;
using txflow::cron::Instant;
using txflow::cron::parse;
using txflow::cron::Schedule;
using txflow::cron::Zone;
namespace ref = txflow::cron_ref;
using V = std::vector<std::string>;

const Zone& zone(const char* name) {
    if (std::string_view(name) == "UTC") return Zone::utc();
    const Zone* z = Zone::find(name);
    REQUIRE(z != nullptr);
    return *z;
}

Schedule sched(const char* text, const char* zone_name) {
    auto r = parse(text);
    INFO("text: " << text);
    if (!r) FAIL("rejected: " << r.error().message());
    return r->in_zone(zone(zone_name));
}

// Parses "2026-03-08T07:00:00Z" (UTC only), without the library.
Instant Z(const char* text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    REQUIRE(std::sscanf(text, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6);
    return ref::utc(y, mo, d, h, mi, s);
}

using txflow::cron_test::fires;

V fires_back(const Schedule& s, Instant from, int count) {
    V out;
    std::optional<Instant> t = from;
    for (int i = 0; i < count; ++i) {
        t = s.prev(*t);
        if (!t) {
            out.emplace_back("nullopt");
            break;
        }
        out.push_back(ref::utc_text(*t));
    }
    return out;
}

// All fires in (from, to], as UTC text.
V fires_between(const Schedule& s, Instant from, Instant to) {
    V out;
    std::optional<Instant> t = from;
    while ((t = s.next(*t)) && *t <= to) out.push_back(ref::utc_text(*t));
    return out;
}

V reversed(V v) {
    return V(v.rbegin(), v.rend());
}

std::chrono::seconds off(const char* zone_name, const char* utc_text) {
    return zone(zone_name).offset_at(std::chrono::floor<std::chrono::seconds>(Z(utc_text)));
}

}  // namespace

TEST_CASE("zone offsets and spans around known transitions", "[cron][dst][zone]") {
    using std::chrono::hours;
    using std::chrono::minutes;
    CHECK(off("America/New_York", "2026-03-08T06:59:59Z") == -hours{5});
    CHECK(off("America/New_York", "2026-03-08T07:00:00Z") == -hours{4});
    CHECK(off("America/New_York", "2026-11-01T05:59:59Z") == -hours{4});
    CHECK(off("America/New_York", "2026-11-01T06:00:00Z") == -hours{5});
    CHECK(off("Europe/Berlin", "2026-03-29T00:59:59Z") == hours{1});
    CHECK(off("Europe/Berlin", "2026-03-29T01:00:00Z") == hours{2});
    CHECK(off("Australia/Lord_Howe", "2026-10-03T15:29:59Z") == hours{10} + minutes{30});
    CHECK(off("Australia/Lord_Howe", "2026-10-03T15:30:00Z") == hours{11});
    CHECK(off("Australia/Lord_Howe", "2026-04-04T14:59:59Z") == hours{11});
    CHECK(off("Australia/Lord_Howe", "2026-04-04T15:00:00Z") == hours{10} + minutes{30});
    CHECK(off("Pacific/Chatham", "2026-09-26T13:59:59Z") == hours{12} + minutes{45});
    CHECK(off("Pacific/Chatham", "2026-09-26T14:00:00Z") == hours{13} + minutes{45});
    CHECK(off("UTC", "2026-03-08T07:00:00Z") == 0s);

    struct SpanCase {
        const char* zone;
        const char* inside;
        const char* begin;
        const char* end;
    };
    // Past 2037 the POSIX-rule path answers.
    for (const SpanCase& c : {
             SpanCase{"America/New_York", "2026-06-01T00:00:00Z", "2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z"},
             SpanCase{"America/New_York", "2045-06-01T00:00:00Z", "2045-03-12T07:00:00Z", "2045-11-05T06:00:00Z"},
             SpanCase{"America/New_York", "2050-06-01T00:00:00Z", "2050-03-13T07:00:00Z", "2050-11-06T06:00:00Z"},
             SpanCase{"America/New_York", "2400-06-01T00:00:00Z", "2400-03-12T07:00:00Z", "2400-11-05T06:00:00Z"},
             SpanCase{"Europe/Berlin", "2045-06-01T00:00:00Z", "2045-03-26T01:00:00Z", "2045-10-29T01:00:00Z"},
             SpanCase{"Australia/Lord_Howe", "2045-06-01T00:00:00Z", "2045-04-01T15:00:00Z", "2045-09-30T15:30:00Z"},
             SpanCase{"Pacific/Chatham", "2045-06-01T00:00:00Z", "2045-04-01T14:00:00Z", "2045-09-23T14:00:00Z"},
         }) {
        INFO(c.zone << " " << c.inside);
        const auto span = zone(c.zone).span_at(std::chrono::floor<std::chrono::seconds>(Z(c.inside)));
        CHECK(ref::utc_text(Instant{span.begin}) == c.begin);
        CHECK(ref::utc_text(Instant{span.end}) == c.end);
    }
}

TEST_CASE("New York spring forward 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z", "[cron][dst]") {
    const char* ny = "America/New_York";
    SECTION("a fixed time in the gap fires once, at 03:00 EDT") {
        const Schedule s = sched("30 2 * * *", ny);
        CHECK(fires(s, Z("2026-03-07T12:00:00Z"), 3) ==
              V{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"});
        CHECK(fires_back(s, Z("2026-03-09T12:00:00Z"), 3) ==
              V{"2026-03-09T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-07T07:30:00Z"});
        CHECK(fires(sched("0 30 2 * * *", ny), Z("2026-03-07T12:00:00Z"), 1) == V{"2026-03-08T07:00:00Z"});
        CHECK(fires(sched("15 59 2 * * *", ny), Z("2026-03-07T12:00:00Z"), 1) == V{"2026-03-08T07:00:00Z"});
    }
    SECTION("02:00 itself is in the gap too") {
        CHECK(fires(sched("0 2 * * *", ny), Z("2026-03-08T05:00:00Z"), 2) ==
              V{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"});
    }
    SECTION("several gap times map to one instant and fire once") {
        CHECK(fires(sched("0,30 2 * * *", ny), Z("2026-03-08T05:00:00Z"), 3) ==
              V{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:30:00Z"});
        // 02:00, 02:30 (gap) and 03:00 all land on 07:00Z: once.
        CHECK(fires(sched("0,30 2,3 * * *", ny), Z("2026-03-08T05:00:00Z"), 3) ==
              V{"2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:00:00Z"});
        CHECK(fires(sched("0 0 2-3 * * *", ny), Z("2026-03-08T05:00:00Z"), 2) ==
              V{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"});
    }
    SECTION("interval-like schedules have no fires in the missing hour") {
        const Schedule s = sched("*/15 * * * *", ny);
        CHECK(fires(s, Z("2026-03-08T06:20:00Z"), 5) == V{"2026-03-08T06:30:00Z", "2026-03-08T06:45:00Z",
                                                          "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z",
                                                          "2026-03-08T07:30:00Z"});
        // Every fire that day is at a local time that exists; none at 02:xx local.
        std::optional<Instant> t = Z("2026-03-08T05:00:00Z") - 1s;
        int count = 0;
        while ((t = s.next(*t)) && *t < Z("2026-03-09T04:00:00Z")) {
            const auto local = std::chrono::floor<std::chrono::seconds>(*t) +
                               zone(ny).offset_at(std::chrono::floor<std::chrono::seconds>(*t));
            const auto c = ref::civil_from_local(local.time_since_epoch().count());
            INFO(ref::utc_text(*t));
            CHECK(c.h != 2);
            ++count;
        }
        CHECK(count == 23 * 4);  // a 23-hour local day
        // Hour '*' with a fixed minute: 01:30 EST, then 03:30 EDT.
        CHECK(fires(sched("30 * * * *", ny), Z("2026-03-08T06:00:00Z"), 3) ==
              V{"2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z", "2026-03-08T08:30:00Z"});
        // Every minute of 02:xx: none on the 8th.
        CHECK(fires(sched("* 2 * * *", ny), Z("2026-03-08T05:00:00Z"), 1) == V{"2026-03-09T06:00:00Z"});
        CHECK(fires_back(sched("* 2 * * *", ny), Z("2026-03-09T06:00:00Z"), 1) == V{"2026-03-07T07:59:00Z"});
    }
}

TEST_CASE("New York fall back 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z", "[cron][dst]") {
    const char* ny = "America/New_York";
    SECTION("a fixed time in the repeated hour fires once, at the first occurrence") {
        const Schedule s = sched("30 1 * * *", ny);
        CHECK(fires(s, Z("2026-11-01T04:00:00Z"), 2) == V{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
        CHECK(fires(s, Z("2026-11-01T05:30:00Z"), 1) == V{"2026-11-02T06:30:00Z"});
        CHECK(fires_back(s, Z("2026-11-01T12:00:00Z"), 2) == V{"2026-11-01T05:30:00Z", "2026-10-31T05:30:00Z"});
        CHECK(fires_back(s, Z("2026-11-01T06:45:00Z"), 1) == V{"2026-11-01T05:30:00Z"});
        CHECK(fires(sched("0 30 1 * * *", ny), Z("2026-11-01T04:00:00Z"), 2) ==
              V{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
        CHECK(fires(sched("0 1-2 * * *", ny), Z("2026-11-01T04:00:00Z"), 3) ==
              V{"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-02T06:00:00Z"});
        // Every second of 01:00:00-01:00:02 local, once each.
        CHECK(fires(sched("0-2 0 1 * * *", ny), Z("2026-11-01T04:00:00Z"), 4) ==
              V{"2026-11-01T05:00:00Z", "2026-11-01T05:00:01Z", "2026-11-01T05:00:02Z", "2026-11-02T06:00:00Z"});
    }
    SECTION("interval-like schedules fire at every real occurrence") {
        const V want{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z",
                     "2026-11-01T07:00:00Z"};
        CHECK(fires(sched("*/30 * * * *", ny), Z("2026-11-01T04:45:00Z"), 5) == want);
        CHECK(fires_back(sched("*/30 * * * *", ny), Z("2026-11-01T07:00:01Z"), 5) == reversed(want));
        CHECK(fires(sched("30 * * * *", ny), Z("2026-11-01T04:00:00Z"), 4) ==
              V{"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z"});
        // Every minute of both 01:xx hours.
        const Schedule every_minute_of_1 = sched("* 1 * * *", ny);
        CHECK(fires_between(every_minute_of_1, Z("2026-11-01T04:59:59Z"), Z("2026-11-01T12:00:00Z")).size() == 120);
        CHECK(fires(every_minute_of_1, Z("2026-11-01T06:59:00Z"), 1) == V{"2026-11-02T06:00:00Z"});
    }
}

TEST_CASE("Europe/Berlin 2026", "[cron][dst]") {
    const char* b = "Europe/Berlin";
    // Spring 2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST.
    CHECK(fires(sched("30 2 * * *", b), Z("2026-03-28T12:00:00Z"), 2) ==
          V{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"});
    CHECK(fires(sched("0 30 2 * * MON-FRI", b), Z("2026-03-28T12:00:00Z"), 1) == V{"2026-03-30T00:30:00Z"});
    CHECK(fires(sched("*/30 2 * * *", b), Z("2026-03-28T12:00:00Z"), 1) == V{"2026-03-30T00:00:00Z"});
    // Fall 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET.
    CHECK(fires(sched("30 2 * * *", b), Z("2026-10-24T12:00:00Z"), 2) ==
          V{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"});
    CHECK(fires(sched("*/30 2 * * *", b), Z("2026-10-24T12:00:00Z"), 5) ==
          V{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z",
            "2026-10-26T01:00:00Z"});
    CHECK(fires_back(sched("30 2 * * *", b), Z("2026-10-25T02:00:00Z"), 1) == V{"2026-10-25T00:30:00Z"});
}

TEST_CASE("Australia/Lord_Howe: a 30-minute shift", "[cron][dst]") {
    const char* lh = "Australia/Lord_Howe";
    // Spring 2026-10-03 15:30Z: 02:00 (+10:30) -> 02:30 (+11).
    CHECK(fires(sched("15 2 * * *", lh), Z("2026-10-03T12:00:00Z"), 2) ==
          V{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"});
    CHECK(fires(sched("45 2 * * *", lh), Z("2026-10-03T12:00:00Z"), 2) ==
          V{"2026-10-03T15:45:00Z", "2026-10-04T15:45:00Z"});
    // 02:00, 02:15 (gap) and 02:30 all land on 15:30Z.
    CHECK(fires(sched("0,15,30,45 2 * * *", lh), Z("2026-10-03T12:00:00Z"), 3) ==
          V{"2026-10-03T15:30:00Z", "2026-10-03T15:45:00Z", "2026-10-04T15:00:00Z"});
    CHECK(fires(sched("*/20 * * * *", lh), Z("2026-10-03T15:00:00Z"), 3) ==
          V{"2026-10-03T15:10:00Z", "2026-10-03T15:40:00Z", "2026-10-03T16:00:00Z"});
    // Fall 2026-04-04 15:00Z: 02:00 (+11) -> 01:30 (+10:30); 01:30-02:00 repeats.
    CHECK(fires(sched("45 1 * * *", lh), Z("2026-04-04T12:00:00Z"), 2) ==
          V{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"});
    CHECK(fires(sched("15 1 * * *", lh), Z("2026-04-04T12:00:00Z"), 2) ==
          V{"2026-04-04T14:15:00Z", "2026-04-05T14:45:00Z"});
    CHECK(fires(sched("*/15 1 * * *", lh), Z("2026-04-04T13:50:00Z"), 7) ==
          V{"2026-04-04T14:00:00Z", "2026-04-04T14:15:00Z", "2026-04-04T14:30:00Z", "2026-04-04T14:45:00Z",
            "2026-04-04T15:00:00Z", "2026-04-04T15:15:00Z", "2026-04-05T14:30:00Z"});
    CHECK(fires_back(sched("45 1 * * *", lh), Z("2026-04-04T16:00:00Z"), 1) == V{"2026-04-04T14:45:00Z"});
    // Past the tz database (POSIX rule): 2045-09-30 15:30Z spring forward.
    CHECK(fires(sched("15 2 * * *", lh), Z("2045-09-30T12:00:00Z"), 2) ==
          V{"2045-09-30T15:30:00Z", "2045-10-01T15:15:00Z"});
}

TEST_CASE("Pacific/Chatham: +12:45 / +13:45", "[cron][dst]") {
    const char* ch = "Pacific/Chatham";
    // Spring 2026-09-26 14:00Z: 02:45 (+12:45) -> 03:45 (+13:45).
    CHECK(fires(sched("0 3 * * *", ch), Z("2026-09-26T00:00:00Z"), 2) ==
          V{"2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z"});
    CHECK(fires(sched("50 2 * * *", ch), Z("2026-09-26T00:00:00Z"), 1) == V{"2026-09-26T14:00:00Z"});
    CHECK(fires(sched("0,30 3 * * *", ch), Z("2026-09-26T00:00:00Z"), 2) ==
          V{"2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z"});
    // Before the gap, 02:44:59 exists.
    CHECK(fires(sched("59 44 2 * * *", ch), Z("2026-09-26T00:00:00Z"), 1) == V{"2026-09-26T13:59:59Z"});
    // Interval-like: 03:00-03:44 are missing, 03:45 exists.
    CHECK(fires(sched("* 3 * * *", ch), Z("2026-09-26T00:00:00Z"), 2) ==
          V{"2026-09-26T14:00:00Z", "2026-09-26T14:01:00Z"});
    CHECK(fires(sched("*/10 3 * * *", ch), Z("2026-09-26T00:00:00Z"), 2) ==
          V{"2026-09-26T14:05:00Z", "2026-09-27T13:15:00Z"});
    // Fall 2026-04-04 14:00Z: 03:45 (+13:45) -> 02:45 (+12:45); 02:45-03:45 repeats.
    CHECK(fires(sched("0 3 * * *", ch), Z("2026-04-04T00:00:00Z"), 2) ==
          V{"2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z"});
    CHECK(fires(sched("*/30 * * * *", ch), Z("2026-04-04T13:00:00Z"), 4) ==
          V{"2026-04-04T13:15:00Z", "2026-04-04T13:45:00Z", "2026-04-04T14:15:00Z", "2026-04-04T14:45:00Z"});
    CHECK(fires(sched("*/30 3 * * *", ch), Z("2026-04-04T13:00:00Z"), 5) ==
          V{"2026-04-04T13:15:00Z", "2026-04-04T13:45:00Z", "2026-04-04T14:15:00Z", "2026-04-04T14:45:00Z",
            "2026-04-05T14:15:00Z"});
}

TEST_CASE("far future: POSIX rules past the tz database", "[cron][dst]") {
    const char* ny = "America/New_York";
    CHECK(fires(sched("30 2 * * *", ny), Z("2050-03-12T12:00:00Z"), 2) ==
          V{"2050-03-13T07:00:00Z", "2050-03-14T06:30:00Z"});
    CHECK(fires(sched("30 1 * * *", ny), Z("2050-11-06T04:00:00Z"), 2) ==
          V{"2050-11-06T05:30:00Z", "2050-11-07T06:30:00Z"});
    CHECK(fires(sched("*/30 * * * *", ny), Z("2050-11-06T04:45:00Z"), 5) ==
          V{"2050-11-06T05:00:00Z", "2050-11-06T05:30:00Z", "2050-11-06T06:00:00Z", "2050-11-06T06:30:00Z",
            "2050-11-06T07:00:00Z"});
    CHECK(fires(sched("30 2 * * *", ny), Z("2400-03-11T12:00:00Z"), 2) ==
          V{"2400-03-12T07:00:00Z", "2400-03-13T06:30:00Z"});
    CHECK(fires_back(sched("30 2 * * *", ny), Z("2400-03-12T12:00:00Z"), 2) ==
          V{"2400-03-12T07:00:00Z", "2400-03-11T07:30:00Z"});
    CHECK(fires(sched("30 2 * * *", "Europe/Berlin"), Z("2045-03-25T12:00:00Z"), 1) == V{"2045-03-26T01:00:00Z"});
    CHECK(fires(sched("0 3 * * *", "Pacific/Chatham"), Z("2045-09-23T00:00:00Z"), 1) == V{"2045-09-23T14:00:00Z"});
    // Year 9999 in New York: summer offset -4.
    CHECK(fires(sched("0 12 1 7 *", ny), Z("9999-01-01T00:00:00Z"), 2) == V{"9999-07-01T16:00:00Z", "nullopt"});
}

TEST_CASE("the end of the supported range: year 9999", "[cron][dst]") {
    const Schedule every_second = sched("* * * * * *", "UTC");
    CHECK(fires(every_second, Z("9999-12-31T23:59:58Z"), 2) == V{"9999-12-31T23:59:59Z", "nullopt"});
    CHECK_FALSE(every_second.next(Z("9999-12-31T23:59:59Z") + 500ms).has_value());
    CHECK(ref::opt_text(every_second.prev(Z("9999-12-31T23:59:59Z"))) == "9999-12-31T23:59:58Z");
    CHECK(fires(sched("59 23 31 12 *", "UTC"), Z("9999-01-01T00:00:00Z"), 2) == V{"9999-12-31T23:59:00Z", "nullopt"});
    CHECK(fires(sched("0 0 1 1 *", "UTC"), Z("9999-06-01T00:00:00Z"), 1) == V{"nullopt"});
    CHECK(fires(sched("0 0 29 2 *", "UTC"), Z("9996-03-01T00:00:00Z"), 1) == V{"nullopt"});  // 9996 was the last
    CHECK(ref::opt_text(sched("0 0 29 2 *", "UTC").prev(Z("9999-12-31T00:00:00Z"))) == "9996-02-29T00:00:00Z");
}

TEST_CASE("RFC 3339 text shows the local offset in force", "[cron][dst][zone]") {
    using txflow::cron::parse_rfc3339;
    using txflow::cron::to_rfc3339;
    CHECK(to_rfc3339(Z("2026-03-08T07:00:00Z"), zone("America/New_York")) == "2026-03-08T03:00:00-04:00");
    CHECK(to_rfc3339(Z("2026-03-08T06:59:59Z"), zone("America/New_York")) == "2026-03-08T01:59:59-05:00");
    CHECK(to_rfc3339(Z("2026-11-01T06:30:00Z") + 250ms, zone("America/New_York")) == "2026-11-01T01:30:00.250-05:00");
    CHECK(to_rfc3339(Z("2026-09-26T14:00:00Z"), zone("Pacific/Chatham")) == "2026-09-27T03:45:00+13:45");
    CHECK(to_rfc3339(Z("2026-10-03T15:29:59Z"), zone("Australia/Lord_Howe")) == "2026-10-04T01:59:59+10:30");

    CHECK(parse_rfc3339("2026-03-08T03:00:00-04:00") == Z("2026-03-08T07:00:00Z"));
    CHECK(parse_rfc3339("2026-03-08T07:00:00Z") == Z("2026-03-08T07:00:00Z"));
    CHECK(parse_rfc3339("2026-03-08 07:00:00z") == Z("2026-03-08T07:00:00Z"));
    CHECK(parse_rfc3339("2026-09-27t03:45:00+13:45") == Z("2026-09-26T14:00:00Z"));
    CHECK(parse_rfc3339("2026-11-01T01:30:00.250-05:00") == Z("2026-11-01T06:30:00Z") + 250ms);
    CHECK_FALSE(parse_rfc3339("2026-03-08T07:00:00").has_value());
    CHECK_FALSE(parse_rfc3339("not a time").has_value());
    // Round trip in every test zone.
    for (const char* name : {"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham"}) {
        for (const Instant t :
             {Z("2026-11-01T05:30:00Z"), Z("2026-04-04T14:45:00Z") + 7ms, Z("2050-03-13T07:00:00Z")}) {
            INFO(name << " " << ref::utc_text(t));
            CHECK(parse_rfc3339(to_rfc3339(t, zone(name))) == t);
        }
    }
}

}  // namespace dst_test
