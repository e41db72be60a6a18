#pragma once
// A brute-force reference for cron matching and next/prev, written from the
// rules (README / schedule.hpp), not from the library's algorithm.
//
// Matching: a local civil date-time matches a Spec when every field's bit is
// set, with the Vixie day rule (both day fields restricted: either; else both)
// and the Quartz day extras on their side (L, L-n, LW, nW: day-of-month;
// wL, w#n: day-of-week).
//
// Walking: instants are tried one by one from the first whole second after
// (or before) the given instant. The only shortcut is a trivially safe one:
// when the local date, hour or minute does not match, jump to the start of the
// next local day, hour or minute, but never past a UTC-offset change (the
// walk always lands on the first instant of every span, where the gap rule
// is checked).
//
// DST rules, per instant u with local = u + offset(u):
// - interval-like (star_fields != 0): fires iff local matches.
// - wall-clock fixed: fires iff local matches and no earlier instant had the
//   same local time (first occurrence), or u is the first instant of a span
//   entered by a forward jump and some local time skipped by the jump,
//   [u + old offset, u + new offset), matches.

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "txflow/cron/spec.hpp"
#include "txflow/cron/zone.hpp"

namespace txflow::cron_ref {

using std::chrono::seconds;
using std::chrono::sys_seconds;
using txflow::cron::Instant;
using txflow::cron::OffsetSpan;
using txflow::cron::Spec;
using txflow::cron::Zone;

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}
inline std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
    return a - floor_div(a, b) * b;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's formula).
inline std::int64_t days_from_civil(std::int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t yoe = y - era * 400;
    const std::int64_t mp = (m + 9) % 12;
    const std::int64_t doy = (153 * mp + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    std::int64_t y = 1970;
    int m = 1, d = 1, h = 0, mi = 0, s = 0;
    friend bool operator==(const Civil&, const Civil&) = default;
};

inline Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = floor_div(z, 146097);
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    Civil c;
    c.d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    c.m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    c.y = yoe + era * 400 + (c.m <= 2 ? 1 : 0);
    return c;
}

// Local seconds since 1970-01-01T00:00 (local) -> civil.
inline Civil civil_from_local(std::int64_t local) {
    const std::int64_t days = floor_div(local, 86400);
    const std::int64_t sod = local - days * 86400;
    Civil c = civil_from_days(days);
    c.h = static_cast<int>(sod / 3600);
    c.mi = static_cast<int>(sod / 60 % 60);
    c.s = static_cast<int>(sod % 60);
    return c;
}

inline std::int64_t local_from_civil(const Civil& c) {
    return days_from_civil(c.y, c.m, c.d) * 86400 + c.h * 3600 + c.mi * 60 + c.s;
}

inline bool is_leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
inline int days_in_month(std::int64_t y, int m) {
    static constexpr std::array<int, 13> kDays{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[static_cast<std::size_t>(m)];
}
// 0 = Sunday. 1970-01-01 was a Thursday.
inline int weekday(std::int64_t y, int m, int d) {
    return static_cast<int>(floor_mod(days_from_civil(y, m, d) + 4, 7));
}

// "nW": the Mon-Fri nearest to day n, not leaving the month; 0 if n does not exist.
inline int nearest_weekday_day(std::int64_t y, int m, int n) {
    const int dim = days_in_month(y, m);
    if (n > dim) return 0;
    const int wd = weekday(y, m, n);
    if (wd == 6) return n == 1 ? 3 : n - 1;
    if (wd == 0) return n == dim ? n - 2 : n + 1;
    return n;
}

inline int last_business_day(std::int64_t y, int m) {
    int d = days_in_month(y, m);
    while (weekday(y, m, d) == 0 || weekday(y, m, d) == 6) --d;
    return d;
}

template <class T>
inline bool bit(T set, int n) {
    return n >= 0 && n < 64 && ((static_cast<std::uint64_t>(set) >> n) & 1U) != 0;
}

inline bool dom_side(const Spec& s, std::int64_t y, int m, int d) {
    const int dim = days_in_month(y, m);
    if (bit(s.days_of_month, d)) return true;
    if (s.last_day_offset >= 0 && d == dim - s.last_day_offset) return true;
    if (s.last_business_day && d == last_business_day(y, m)) return true;
    for (int n = 1; n <= 31; ++n) {
        if (bit(s.nearest_weekday, n) && nearest_weekday_day(y, m, n) == d) return true;
    }
    return false;
}

inline bool dow_side(const Spec& s, std::int64_t y, int m, int d) {
    const int dim = days_in_month(y, m);
    const int wd = weekday(y, m, d);
    if (bit(s.days_of_week, wd)) return true;
    if (bit(s.last_weekday_of, wd) && d + 7 > dim) return true;
    if (bit(s.nth_weekday[static_cast<std::size_t>(wd)], (d - 1) / 7 + 1)) return true;
    return false;
}

inline bool date_matches(const Spec& s, std::int64_t y, int m, int d) {
    if (y > 9999 || y < -9999) return false;
    if (!s.year_allowed(static_cast<int>(y))) return false;
    if (!bit(s.months, m)) return false;
    const bool dom = dom_side(s, y, m, d);
    const bool dow = dow_side(s, y, m, d);
    if (!s.dom_any && !s.dow_any) return dom || dow;
    return dom && dow;
}

// How far a local time fails to match: 0 matches; 1 second; 2 minute; 3 hour; 4 date.
inline int mismatch_level(const Spec& s, const Civil& c) {
    if (!date_matches(s, c.y, c.m, c.d)) return 4;
    if (!bit(s.hours, c.h)) return 3;
    if (!bit(s.minutes, c.mi)) return 2;
    if (!bit(s.seconds, c.s)) return 1;
    return 0;
}

inline bool local_matches(const Spec& s, std::int64_t local) {
    return mismatch_level(s, civil_from_local(local)) == 0;
}

inline std::int64_t unit_of(int level) {
    switch (level) {
        case 4: return 86400;
        case 3: return 3600;
        case 2: return 60;
        default: return 1;
    }
}

// Is any local time in [lo, hi) a match? (Used for the spring-forward gap.)
inline bool any_local_match(const Spec& s, std::int64_t lo, std::int64_t hi) {
    std::int64_t l = lo;
    while (l < hi) {
        const int lvl = mismatch_level(s, civil_from_local(l));
        if (lvl == 0) return true;
        const std::int64_t unit = unit_of(lvl);
        l += unit - floor_mod(l, unit);
    }
    return false;
}

inline std::int64_t secs(sys_seconds t) {
    return t.time_since_epoch().count();
}

class Walker {
public:
    Walker(const Spec& spec, const Zone& zone) : spec_(spec), zone_(zone) {}

    // Does the schedule fire at u? level receives the mismatch level of u's local time.
    bool fires(std::int64_t u, int& level) {
        load(u);
        const std::int64_t off = secs_of(span_.offset);
        const std::int64_t local = u + off;
        level = mismatch_level(spec_, civil_from_local(local));
        const bool interval = !spec_.wall_clock_fixed();
        if (level == 0) {
            if (interval) return true;
            // First occurrence: the local time was not already shown by the previous span.
            const std::int64_t earlier = local - prev_off_;
            const bool seen_before = earlier >= prev_begin_ && earlier < secs(span_.begin) && earlier < u;
            if (!seen_before) return true;
        }
        if (!interval && u == secs(span_.begin) && prev_off_ < off) {
            if (any_local_match(spec_, u + prev_off_, u + off)) return true;
        }
        return false;
    }

    std::optional<std::int64_t> next(std::int64_t after_exclusive, std::int64_t limit) {
        std::int64_t u = after_exclusive + 1;
        while (u <= limit) {
            int level = 0;
            if (fires(u, level)) return u;
            const std::int64_t unit = unit_of(level);
            const std::int64_t local = u + secs_of(span_.offset);
            std::int64_t target = u + (unit - floor_mod(local, unit));
            if (target > secs(span_.end)) target = secs(span_.end);
            u = target;
        }
        return std::nullopt;
    }

    std::optional<std::int64_t> prev(std::int64_t before_exclusive, std::int64_t limit) {
        std::int64_t u = before_exclusive - 1;
        while (u >= limit) {
            int level = 0;
            if (fires(u, level)) return u;
            const std::int64_t unit = unit_of(level);
            const std::int64_t local = u + secs_of(span_.offset);
            std::int64_t target = u - floor_mod(local, unit) - 1;
            const std::int64_t begin = secs(span_.begin);
            if (target < begin) target = u > begin ? begin : begin - 1;
            u = target;
        }
        return std::nullopt;
    }

private:
    static std::int64_t secs_of(seconds s) { return s.count(); }

    void load(std::int64_t u) {
        if (loaded_ && u >= secs(span_.begin) && u < secs(span_.end)) return;
        span_ = zone_.span_at(sys_seconds{seconds{u}});
        if (secs(span_.begin) < -(std::int64_t{1} << 50)) {  // no earlier span (UTC)
            prev_off_ = secs_of(span_.offset);
            prev_begin_ = secs(span_.begin);
        } else {
            const OffsetSpan p = zone_.span_at(span_.begin - seconds{1});
            prev_off_ = secs_of(p.offset);
            prev_begin_ = secs(p.begin);
        }
        loaded_ = true;
    }

    const Spec& spec_;
    const Zone& zone_;
    bool loaded_ = false;
    OffsetSpan span_{};
    std::int64_t prev_off_ = 0;
    std::int64_t prev_begin_ = 0;
};

inline std::int64_t floor_seconds(Instant t) {
    return std::chrono::floor<seconds>(t).time_since_epoch().count();
}
inline std::int64_t ceil_seconds(Instant t) {
    return std::chrono::ceil<seconds>(t).time_since_epoch().count();
}
inline Instant to_instant(std::int64_t s) {
    return Instant{std::chrono::milliseconds{s * 1000}};
}

// The first fire strictly after `after`, searching up to and including `limit`.
inline std::optional<Instant> reference_next(const Spec& spec, const Zone& zone, Instant after, Instant limit) {
    Walker w(spec, zone);
    auto r = w.next(floor_seconds(after), floor_seconds(limit));
    if (!r) return std::nullopt;
    return to_instant(*r);
}

// The last fire strictly before `before`, searching down to and including `limit`.
inline std::optional<Instant> reference_prev(const Spec& spec, const Zone& zone, Instant before, Instant limit) {
    Walker w(spec, zone);
    auto r = w.prev(ceil_seconds(before), ceil_seconds(limit));
    if (!r) return std::nullopt;
    return to_instant(*r);
}

// Does the reference say the schedule fires exactly at t (a whole second)?
inline bool reference_fires_at(const Spec& spec, const Zone& zone, Instant t) {
    if (floor_seconds(t) != ceil_seconds(t)) return false;
    Walker w(spec, zone);
    int level = 0;
    return w.fires(floor_seconds(t), level);
}

// "2026-03-08T07:00:00Z" (".250" added for milliseconds), computed here so failures do not depend on the library's
// formatter.
inline std::string utc_text(Instant t) {
    const std::int64_t ms = t.time_since_epoch().count();
    const std::int64_t s = floor_div(ms, 1000);
    const Civil c = civil_from_local(s);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.y), c.m, c.d, c.h, c.mi,
                  c.s);
    std::string out = buf;
    if (ms - s * 1000 != 0) {
        std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(ms - s * 1000));
        out += buf;
    }
    return out + "Z";
}

inline std::string opt_text(const std::optional<Instant>& t) {
    return t ? utc_text(*t) : std::string("nullopt");
}

// UTC instant from civil fields.
inline Instant utc(std::int64_t y, int m, int d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
    return Instant{std::chrono::milliseconds{local_from_civil(Civil{y, m, d, h, mi, s}) * 1000 + ms}};
}

}  // namespace txflow::cron_ref
