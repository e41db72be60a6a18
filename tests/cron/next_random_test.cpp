// Random expressions from a grammar, evaluated in DST-heavy zones around real
// transitions, checked against the brute-force reference in
// tests/support/cron_reference.hpp, plus design properties of next/prev.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "support/cron_gen.hpp"
#include "support/cron_reference.hpp"
#include "txflow/cron/schedule.hpp"

namespace next_random_test {

namespace {

using namespace std::chrono_literals;
using txflow::cron::Instant;
using txflow::cron::parse;
using txflow::cron::Schedule;
using txflow::cron::Spec;
using txflow::cron::Zone;
namespace ref = txflow::cron_ref;
namespace gen = txflow::cron_gen;

const std::vector<const char*>& zone_names() {
    static const std::vector<const char*> names{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                                                "Pacific/Chatham"};
    return names;
}

const Zone& zone_by_name(const std::string& name) {
    if (name == "UTC") return Zone::utc();
    const Zone* z = Zone::find(name);
    REQUIRE(z != nullptr);
    return *z;
}

// Offset changes of a zone in [from, to), found by walking its spans.
std::vector<Instant> transitions(const Zone& zone, int from_year, int to_year) {
    std::vector<Instant> out;
    std::chrono::sys_seconds t = std::chrono::floor<std::chrono::seconds>(ref::utc(from_year, 1, 1));
    const auto end = std::chrono::floor<std::chrono::seconds>(ref::utc(to_year, 1, 1));
    while (t < end) {
        const auto span = zone.span_at(t);
        if (span.end >= end) break;
        out.push_back(Instant{span.end});
        t = span.end;
    }
    return out;
}

struct ZoneCase {
    std::string name;
    const Zone* zone;
    std::vector<Instant> anchors;  // transitions (or, for UTC, arbitrary dates) to cluster instants around
};

const std::vector<ZoneCase>& zone_cases() {
    static const std::vector<ZoneCase> cases = [] {
        std::vector<ZoneCase> out;
        for (const char* n : zone_names()) {
            ZoneCase c{n, &zone_by_name(n), {}};
            if (c.zone->is_utc()) {
                for (int y : {2024, 2025, 2026, 2027, 2041, 2055, 2099}) {
                    for (int m : {1, 2, 3, 6, 10, 12}) c.anchors.push_back(ref::utc(y, m, m == 2 ? 28 : 30));
                }
            } else {
                auto a = transitions(*c.zone, 2024, 2028);
                auto b = transitions(*c.zone, 2040, 2046);
                auto d = transitions(*c.zone, 2096, 2099);
                c.anchors.insert(c.anchors.end(), a.begin(), a.end());
                c.anchors.insert(c.anchors.end(), b.begin(), b.end());
                c.anchors.insert(c.anchors.end(), d.begin(), d.end());
            }
            out.push_back(std::move(c));
        }
        return out;
    }();
    return cases;
}

Instant random_instant_near(std::mt19937& rng, const ZoneCase& zc) {
    if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
        // Anywhere from 1975 to 2500: the tz database's history and the POSIX rule's far future.
        const auto lo = ref::utc(1975, 1, 1).time_since_epoch().count();
        const auto hi = ref::utc(2500, 1, 1).time_since_epoch().count();
        return Instant{std::chrono::milliseconds{std::uniform_int_distribution<std::int64_t>(lo, hi)(rng)}};
    }
    const auto& a = zc.anchors;
    const Instant anchor = a[std::uniform_int_distribution<std::size_t>(0, a.size() - 1)(rng)];
    const std::int64_t span_ms = 36LL * 3600 * 1000;
    std::int64_t delta = std::uniform_int_distribution<std::int64_t>(-span_ms, span_ms)(rng);
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
        case 0: delta -= ((delta % 60000) + 60000) % 60000; break;  // whole minute
        case 1: delta -= ((delta % 1000) + 1000) % 1000; break;     // whole second
        default: break;                                             // with milliseconds
    }
    return anchor + std::chrono::milliseconds{delta};
}

void check_spec(const gen::Generated& g, const Spec& got) {
    const Spec& want = g.expected;
    CHECK(got.kind == txflow::cron::Kind::cron);
    CHECK(got.seconds == want.seconds);
    CHECK(got.minutes == want.minutes);
    CHECK(got.hours == want.hours);
    CHECK(got.days_of_month == want.days_of_month);
    CHECK(got.months == want.months);
    CHECK(got.days_of_week == want.days_of_week);
    CHECK(got.last_weekday_of == want.last_weekday_of);
    CHECK(got.nth_weekday == want.nth_weekday);
    CHECK(got.nearest_weekday == want.nearest_weekday);
    CHECK(int{got.last_day_offset} == int{want.last_day_offset});
    CHECK(got.last_business_day == want.last_business_day);
    if (g.check_dom_any) CHECK(got.dom_any == want.dom_any);
    if (g.check_dow_any) CHECK(got.dow_any == want.dow_any);
    CHECK(int{got.star_fields} == int{want.star_fields});
    CHECK(got.years_any == want.years_any);
    CHECK(got.years == want.years);
    CHECK(got.zone_name() == want.zone_name());
}

constexpr auto kWindow = std::chrono::milliseconds{std::chrono::hours{24 * 400}};

void check_next_prev(const Schedule& s, const ZoneCase& zc, Instant t) {
    const Spec& spec = s.spec();
    INFO("t = " << ref::utc_text(t) << " zone = " << zc.name);

    // next agrees with the reference over the window.
    const auto want_next = ref::reference_next(spec, *zc.zone, t, t + kWindow);
    const auto got_next = s.next(t);
    INFO("reference next = " << ref::opt_text(want_next) << ", next = " << ref::opt_text(got_next));
    if (want_next) {
        REQUIRE(got_next == want_next);
    } else {
        REQUIRE((!got_next || *got_next > t + kWindow));
    }

    // prev agrees with the reference over the window.
    const auto want_prev = ref::reference_prev(spec, *zc.zone, t, t - kWindow);
    const auto got_prev = s.prev(t);
    INFO("reference prev = " << ref::opt_text(want_prev) << ", prev = " << ref::opt_text(got_prev));
    if (want_prev) {
        REQUIRE(got_prev == want_prev);
    } else {
        REQUIRE((!got_prev || *got_prev < t - kWindow));
    }

    if (got_next) {
        // Fires are strictly after, on whole seconds, and stable around themselves.
        REQUIRE(*got_next > t);
        REQUIRE(got_next->time_since_epoch().count() % 1000 == 0);
        REQUIRE(s.prev(*got_next + 1ms) == got_next);
        REQUIRE(s.next(*got_next - 1ms) == got_next);
        // prev(next(t)) is the last fire at or before t.
        REQUIRE(s.prev(*got_next) == s.prev(t + 1ms));
    }
    if (got_prev) {
        REQUIRE(*got_prev < t);
        REQUIRE(got_prev->time_since_epoch().count() % 1000 == 0);
        REQUIRE(s.next(*got_prev - 1ms) == got_prev);
        REQUIRE(s.prev(*got_prev + 1ms) == got_prev);
        // No fire between prev(t) and t: next(prev(t)) is the first fire at or after t.
        REQUIRE(s.next(*got_prev) == s.next(t - 1ms));
    }

    // A chain of fires is strictly increasing, never repeats, and matches the reference step by step.
    std::optional<Instant> cur = got_next;
    for (int k = 0; k < 4 && cur; ++k) {
        const auto n = s.next(*cur);
        const auto w = ref::reference_next(spec, *zc.zone, *cur, *cur + kWindow);
        INFO("chain step " << k << " from " << ref::utc_text(*cur) << ": reference " << ref::opt_text(w) << ", next "
                           << ref::opt_text(n));
        if (w) {
            REQUIRE(n == w);
        } else {
            REQUIRE((!n || *n > *cur + kWindow));
        }
        if (n) REQUIRE(*n > *cur);
        cur = n;
    }
    // And backwards.
    cur = got_prev;
    for (int k = 0; k < 3 && cur; ++k) {
        const auto p = s.prev(*cur);
        const auto w = ref::reference_prev(spec, *zc.zone, *cur, *cur - kWindow);
        INFO("back chain step " << k << " from " << ref::utc_text(*cur) << ": reference " << ref::opt_text(w)
                                << ", prev " << ref::opt_text(p));
        if (w) {
            REQUIRE(p == w);
        } else {
            REQUIRE((!p || *p < *cur - kWindow));
        }
        if (p) REQUIRE(*p < *cur);
        cur = p;
    }
}

void run_random(std::uint32_t seed, int expressions, int instants_per_expression) {
    gen::Generator g(seed);
    const auto& zones = zone_cases();
    for (int i = 0; i < expressions; ++i) {
        gen::Generated e = g.expression();
        const ZoneCase& zc = zones[static_cast<std::size_t>(g.uniform(0, static_cast<int>(zones.size()) - 1))];
        const bool prefixed = !zc.zone->is_utc() && g.chance(30);
        std::string text = e.text;
        if (prefixed) {
            text = (g.chance(50) ? "CRON_TZ=" : "TZ=") + zc.name + " " + e.text;
            for (std::size_t k = 0; k < zc.name.size(); ++k) e.expected.zone[k] = zc.name[k];
        }
        INFO("seed " << seed << " #" << i << ": \"" << text << "\" zone " << zc.name);
        auto parsed = parse(text);
        if (!parsed) FAIL("rejected: " << parsed.error().message());
        check_spec(e, parsed->spec());

        const Schedule s = prefixed ? *parsed : parsed->in_zone(*zc.zone);
        REQUIRE(s.zone().name() == zc.zone->name());
        if (prefixed) {
            // The prefix wins over in_zone().
            REQUIRE(parsed->in_zone(Zone::utc()).zone().name() == zc.zone->name());
        }
        for (int k = 0; k < instants_per_expression; ++k) check_next_prev(s, zc, random_instant_near(g.rng(), zc));
    }
}

}  // namespace

TEST_CASE("random expressions agree with the brute-force reference around DST transitions", "[cron][random]") {
    run_random(0x7C0FFEEu, 5000, 3);
}

TEST_CASE("random expressions agree with the brute-force reference (large)", "[cron][random][slow]") {
    run_random(20260308u, 50000, 4);
}

TEST_CASE("every-second and every-minute schedules step one unit at a time across transitions", "[cron][random]") {
    for (const auto& zc : zone_cases()) {
        INFO("zone " << zc.name);
        for (const char* text : {"* * * * * *", "* * * * *"}) {
            INFO(text);
            auto parsed = parse(text);
            REQUIRE(parsed);
            const Schedule s = parsed->in_zone(*zc.zone);
            const bool per_second = std::string(text).size() == 11;
            for (std::size_t a = 0; a < zc.anchors.size(); a += 5) {
                Instant t = zc.anchors[a] - std::chrono::minutes{3} + 500ms;
                for (int k = 0; k < 400; ++k) {
                    const auto n = s.next(t);
                    REQUIRE(n);
                    const Instant want = per_second ? std::chrono::ceil<std::chrono::seconds>(t + 1ms)
                                                    : std::chrono::ceil<std::chrono::minutes>(t + 1ms);
                    INFO("t = " << ref::utc_text(t));
                    REQUIRE(ref::utc_text(*n) == ref::utc_text(want));
                    t = *n;
                }
            }
        }
    }
}

}  // namespace next_random_test
