#include "txflow/cron/schedule.hpp"

#include <date/date.h>

#include <bit>
#include <cstdint>

namespace txflow::cron {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::int64_t kFirstSecond = -62'135'596'800;  // 0001-01-01T00:00:00
constexpr std::int64_t kEndSecond = 253'402'300'800;    // 10000-01-01T00:00:00
constexpr int kFirstYear = 1;
// The Gregorian calendar repeats every 400 years: a day pattern that matches
// nowhere in 401 years of months matches nowhere ever.
constexpr int kMonthSearchLimit = 401 * 12;
// Larger than any UTC offset change on record (a day, when Samoa and Alaska
// crossed the date line), so cheaper checks can rule an overlap out.
constexpr std::int64_t kMaxShift = 2 * kSecondsPerDay;

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct Civil {
    int year;
    int month;
    int day;
    int hour;
    int minute;
    int second;
};

Civil to_civil(std::int64_t t) {
    const std::int64_t days = floor_div(t, kSecondsPerDay);
    const auto sod = static_cast<int>(t - days * kSecondsPerDay);
    const date::year_month_day ymd{date::sys_days{date::days{days}}};
    return {static_cast<int>(ymd.year()),
            static_cast<int>(static_cast<unsigned>(ymd.month())),
            static_cast<int>(static_cast<unsigned>(ymd.day())),
            sod / 3600,
            sod / 60 % 60,
            sod % 60};
}

std::int64_t days_from_civil(int y, int m, int d) {
    return date::sys_days{date::year{y} / date::month{static_cast<unsigned>(m)} / date::day{static_cast<unsigned>(d)}}
        .time_since_epoch()
        .count();
}

std::int64_t from_civil(int y, int m, int d, int hh, int mm, int ss) {
    return days_from_civil(y, m, d) * kSecondsPerDay + hh * 3600 + mm * 60 + ss;
}

constexpr bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int y, int m) {
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Sunday = 0.
int weekday_of(std::int64_t days) {
    return static_cast<int>(((days % 7) + 11) % 7);
}

// Bits 1..n: the days of (y, m) the schedule's day fields accept.
std::uint64_t day_mask(const Spec& s, int y, int m) {
    const int n = days_in_month(y, m);
    const std::uint64_t valid = ((std::uint64_t{1} << n) - 1) << 1;
    if (s.dom_any && s.dow_any) return valid;

    const int first_weekday = weekday_of(days_from_civil(y, m, 1));
    const int last_weekday = (first_weekday + n - 1) % 7;

    std::uint64_t dom = 0;
    if (!s.dom_any) {
        dom = s.days_of_month;
        if (s.last_day_offset >= 0 && n - s.last_day_offset >= 1) dom |= std::uint64_t{1} << (n - s.last_day_offset);
        if (s.last_business_day) {
            const int back = last_weekday == 6 ? 1 : last_weekday == 0 ? 2 : 0;
            dom |= std::uint64_t{1} << (n - back);
        }
        for (std::uint32_t bits = s.nearest_weekday; bits != 0; bits &= bits - 1) {
            const int k = std::countr_zero(bits);
            if (k > n) continue;
            const int w = (first_weekday + k - 1) % 7;
            int target = k;
            if (w == 6) target = k == 1 ? k + 2 : k - 1;  // Saturday: Friday, or Monday at a month's start
            if (w == 0) target = k == n ? k - 2 : k + 1;  // Sunday: Monday, or Friday at a month's end
            dom |= std::uint64_t{1} << target;
        }
        dom &= valid;
        if (s.dow_any) return dom;
    }

    std::uint64_t pattern = s.days_of_week;  // bit k: weekday k % 7, for k in 0..62
    pattern |= pattern << 7;
    pattern |= pattern << 14;
    pattern |= pattern << 28;
    std::uint64_t dow = (pattern >> first_weekday) << 1;
    for (std::uint8_t bits = s.last_weekday_of; bits != 0; bits = static_cast<std::uint8_t>(bits & (bits - 1))) {
        const int w = std::countr_zero(bits);
        dow |= std::uint64_t{1} << (n - (last_weekday - w + 7) % 7);
    }
    for (int w = 0; w < 7; ++w) {
        for (unsigned bits = s.nth_weekday[static_cast<std::size_t>(w)]; bits != 0; bits &= bits - 1) {
            const int nth = std::countr_zero(bits);
            const int day = 1 + (w - first_weekday + 7) % 7 + 7 * (nth - 1);
            if (day <= n) dow |= std::uint64_t{1} << day;
        }
    }
    dow &= valid;
    return s.dom_any ? dow : (dom | dow);
}

int next_year_allowed(const Spec& s, int y) {
    if (s.years_any) return y;
    for (; y <= kMaxYear; ++y)
        if (s.year_allowed(y)) return y;
    return kLastSupportedYear + 1;
}

int prev_year_allowed(const Spec& s, int y) {
    if (s.years_any) return y;
    for (y = std::min(y, kMaxYear); y >= kMinYear; --y)
        if (s.year_allowed(y)) return y;
    return kFirstYear - 1;
}

// The first (h, m, s) at or after the given time of day, in place; false if none today.
bool next_time_of_day(const Spec& s, int& h, int& mi, int& se) {
    while (h < 24) {
        const std::uint32_t hours = s.hours & (~std::uint32_t{0} << h);
        if (hours == 0) return false;
        const int hh = std::countr_zero(hours);
        if (hh != h) h = hh, mi = 0, se = 0;
        while (mi < 60) {
            const std::uint64_t minutes = s.minutes & (~std::uint64_t{0} << mi);
            if (minutes == 0) break;
            const int mm = std::countr_zero(minutes);
            if (mm != mi) mi = mm, se = 0;
            const std::uint64_t secs = se < 60 ? s.seconds & (~std::uint64_t{0} << se) : 0;
            if (secs != 0) {
                se = std::countr_zero(secs);
                return true;
            }
            ++mi, se = 0;
        }
        ++h, mi = 0, se = 0;
    }
    return false;
}

// The last (h, m, s) at or before the given time of day, in place; false if none today.
bool prev_time_of_day(const Spec& s, int& h, int& mi, int& se) {
    constexpr int kBits = 64;
    while (h >= 0) {
        const std::uint32_t hours = s.hours & (~std::uint32_t{0} >> (31 - h));
        if (hours == 0) return false;
        const int hh = 31 - std::countl_zero(hours);
        if (hh != h) h = hh, mi = 59, se = 59;
        while (mi >= 0) {
            const std::uint64_t minutes = s.minutes & (~std::uint64_t{0} >> (kBits - 1 - mi));
            if (minutes == 0) break;
            const int mm = kBits - 1 - std::countl_zero(minutes);
            if (mm != mi) mi = mm, se = 59;
            const std::uint64_t secs = se >= 0 ? s.seconds & (~std::uint64_t{0} >> (kBits - 1 - se)) : 0;
            if (secs != 0) {
                se = kBits - 1 - std::countl_zero(secs);
                return true;
            }
            --mi, se = 59;
        }
        --h, mi = 59, se = 59;
    }
    return false;
}

// The first local time strictly after `after` that the fields match.
std::optional<std::int64_t> next_local(const Spec& s, std::int64_t after) {
    if (after + 1 >= kEndSecond) return std::nullopt;
    Civil c = to_civil(std::max(after + 1, kFirstSecond));
    int months_searched = 0;
    auto start_of_next_month = [&c] {
        if (++c.month > 12) c.month = 1, ++c.year;
        c.day = 1, c.hour = 0, c.minute = 0, c.second = 0;
    };
    while (true) {
        const int year = next_year_allowed(s, c.year);
        if (year != c.year) c = {year, 1, 1, 0, 0, 0};
        if (c.year > kLastSupportedYear) return std::nullopt;
        const auto later_months = static_cast<std::uint32_t>(s.months) & (~std::uint32_t{0} << c.month);
        if (later_months == 0) {
            c = {c.year + 1, 1, 1, 0, 0, 0};
            continue;
        }
        if (const int month = std::countr_zero(later_months); month != c.month) c = {c.year, month, 1, 0, 0, 0};
        if (++months_searched > kMonthSearchLimit) return std::nullopt;

        std::uint64_t days = day_mask(s, c.year, c.month) & (~std::uint64_t{0} << c.day);
        while (days != 0) {
            const int day = std::countr_zero(days);
            if (day != c.day) c.day = day, c.hour = 0, c.minute = 0, c.second = 0;
            if (next_time_of_day(s, c.hour, c.minute, c.second))
                return from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second);
            days &= days - 1;
            c.hour = 0, c.minute = 0, c.second = 0;
        }
        start_of_next_month();
    }
}

// The last local time strictly before `before` that the fields match.
std::optional<std::int64_t> prev_local(const Spec& s, std::int64_t before) {
    if (before - 1 < kFirstSecond) return std::nullopt;
    Civil c = to_civil(std::min(before - 1, kEndSecond - 1));
    int months_searched = 0;
    auto end_of_month = [&c](int y, int m) { c = {y, m, days_in_month(y, m), 23, 59, 59}; };
    while (true) {
        const int year = prev_year_allowed(s, c.year);
        if (year < kFirstYear) return std::nullopt;
        if (year != c.year) end_of_month(year, 12);
        const auto earlier_months = static_cast<std::uint32_t>(s.months) & (~std::uint32_t{0} >> (31 - c.month));
        if (earlier_months == 0) {
            if (c.year - 1 < kFirstYear) return std::nullopt;
            end_of_month(c.year - 1, 12);
            continue;
        }
        if (const int month = 31 - std::countl_zero(earlier_months); month != c.month) end_of_month(c.year, month);
        if (++months_searched > kMonthSearchLimit) return std::nullopt;

        std::uint64_t days = day_mask(s, c.year, c.month) & (~std::uint64_t{0} >> (63 - c.day));
        while (days != 0) {
            const int day = 63 - std::countl_zero(days);
            if (day != c.day) c.day = day, c.hour = 23, c.minute = 59, c.second = 59;
            if (prev_time_of_day(s, c.hour, c.minute, c.second))
                return from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second);
            days &= ~(std::uint64_t{1} << day);
            c.hour = 23, c.minute = 59, c.second = 59;
        }
        if (c.month == 1) {
            if (c.year - 1 < kFirstYear) return std::nullopt;
            end_of_month(c.year - 1, 12);
        } else {
            end_of_month(c.year, c.month - 1);
        }
    }
}

sys_seconds at(std::int64_t t) {
    return sys_seconds{seconds{t}};
}
std::int64_t count(sys_seconds t) {
    return t.time_since_epoch().count();
}

// The span before `span`, or nullopt at the start of recorded time.
std::optional<OffsetSpan> span_before(const Zone& zone, const OffsetSpan& span) {
    if (count(span.begin) <= kFirstSecond) return std::nullopt;
    return zone.span_at(span.begin - seconds{1});
}

// See the DST rules in schedule.hpp. Walks the zone's offset spans forward,
// asking the calendar for the next matching local time within each.
std::optional<std::int64_t> next_in_zone(const Spec& s, const Zone& zone, std::int64_t t) {
    if (zone.is_utc()) return next_local(s, t);
    const bool fixed = s.wall_clock_fixed();
    OffsetSpan span = zone.span_at(at(t));
    std::int64_t lower = t + span.offset.count();  // exclusive, local
    while (true) {
        const auto local = next_local(s, lower);
        if (!local) return std::nullopt;
        const std::int64_t offset = span.offset.count();
        if (*local - offset < count(span.end)) {
            // Fixed schedules fire only at the first pass of a repeated local time.
            if (fixed && *local < count(span.begin) + offset + kMaxShift) {
                if (const auto prior = span_before(zone, span);
                    prior && prior->offset > span.offset && *local < count(span.begin) + prior->offset.count()) {
                    lower = count(span.begin) + prior->offset.count() - 1;
                    continue;
                }
            }
            return *local - offset;
        }
        const OffsetSpan following = zone.span_at(span.end);
        // A fixed time inside a spring-forward gap fires as the gap ends.
        if (fixed && following.offset > span.offset && *local < count(span.end) + following.offset.count())
            return count(span.end);
        lower = count(span.end) + following.offset.count() - 1;
        span = following;
    }
}

std::optional<std::int64_t> prev_in_zone(const Spec& s, const Zone& zone, std::int64_t t) {
    if (zone.is_utc()) return prev_local(s, t);
    const bool fixed = s.wall_clock_fixed();
    OffsetSpan span = zone.span_at(at(t - 1));
    std::int64_t upper = t + span.offset.count();  // exclusive, local
    while (true) {
        const auto local = prev_local(s, upper);
        if (!local) return std::nullopt;
        const std::int64_t offset = span.offset.count();
        if (*local - offset >= count(span.begin)) {
            // The second pass of a repeated local time: the first one is the fire.
            if (fixed && *local < count(span.begin) + offset + kMaxShift) {
                if (const auto prior = span_before(zone, span);
                    prior && prior->offset > span.offset && *local < count(span.begin) + prior->offset.count()) {
                    upper = count(prior->end) + prior->offset.count();
                    span = *prior;
                    continue;
                }
            }
            return *local - offset;
        }
        const auto prior = span_before(zone, span);
        if (!prior) return std::nullopt;
        if (fixed && span.offset > prior->offset && *local >= count(span.begin) + prior->offset.count())
            return count(span.begin);
        upper = count(prior->end) + prior->offset.count();
        span = *prior;
    }
}

}  // namespace

Schedule::Schedule(const Spec& spec, const Zone* zone) : spec_(spec), zone_(zone != nullptr ? zone : &Zone::utc()) {
    if (!spec_.zone_name().empty() && zone == nullptr) {
        if (const Zone* own = Zone::find(spec_.zone_name())) zone_ = own;
    }
}

Schedule Schedule::in_zone(const Zone& zone) const {
    if (!spec_.zone_name().empty()) return *this;
    return Schedule(spec_, &zone);
}

std::optional<Instant> Schedule::next(Instant after) const {
    using std::chrono::milliseconds;
    if (spec_.kind == Kind::every) {
        const auto limit = Instant{milliseconds{kEndSecond * 1000}};
        if (after >= limit - milliseconds{spec_.every_ms}) return std::nullopt;
        return after + milliseconds{spec_.every_ms};
    }
    const auto t = std::chrono::floor<seconds>(after).time_since_epoch().count();
    if (t >= kEndSecond) return std::nullopt;
    const auto fire = next_in_zone(spec_, *zone_, std::max(t, kFirstSecond - 1));
    if (!fire || *fire >= kEndSecond) return std::nullopt;  // the same bound as prev()
    return Instant{seconds{*fire}};
}

std::optional<Instant> Schedule::prev(Instant before) const {
    using std::chrono::milliseconds;
    if (spec_.kind == Kind::every) {
        const auto limit = Instant{milliseconds{kFirstSecond * 1000}};
        if (before <= limit + milliseconds{spec_.every_ms}) return std::nullopt;
        return before - milliseconds{spec_.every_ms};
    }
    const auto t = std::chrono::ceil<seconds>(before).time_since_epoch().count();
    if (t <= kFirstSecond) return std::nullopt;
    const auto fire = prev_in_zone(spec_, *zone_, std::min(t, kEndSecond));
    if (!fire || *fire < kFirstSecond) return std::nullopt;
    return Instant{seconds{*fire}};
}

}  // namespace txflow::cron
