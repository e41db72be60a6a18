// describe(): a cron schedule in English, from its parsed bitsets.
//
// The sentence is built in a fixed order, so equal schedules always read the
// same:  <time of day>[, <days>][, <months>][, <years>][ (<Zone> time)]
//
//   "At 02:30, Monday through Friday"
//   "Every 15 minutes, between 09:00 and 17:59"
//   "At 00:00, on the last day of the month"
//   "At 00:00, on day 1 of the month or on Monday"   (Vixie: either day rule)
//
// Only the bitsets are read, never the text the user wrote, so "*/30" and
// "0,30" describe alike. Each field's set of values is first classified
// (all / one value / a run / an evenly stepped sequence / a list) and the
// wording follows the class.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/cron/schedule.hpp"

namespace txflow::cron {
namespace {

constexpr std::array<std::string_view, 7> kWeekdayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                           "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 13> kMonthNames = {"",        "January",  "February", "March",  "April",
                                                          "May",     "June",     "July",     "August", "September",
                                                          "October", "November", "December"};
constexpr std::array<std::string_view, 6> kNthWords = {"", "first", "second", "third", "fourth", "fifth"};

bool bit(std::uint64_t mask, int n) {
    return ((mask >> n) & 1U) != 0;
}

std::vector<int> values_of(std::uint64_t mask, int lo, int hi) {
    std::vector<int> out;
    for (int v = lo; v <= hi; ++v)
        if (bit(mask, v)) out.push_back(v);
    return out;
}

std::string two_digits(int v) {
    std::string s = std::to_string(v);
    return v < 10 ? "0" + s : s;
}

// 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ...
std::string ordinal(int n) {
    const int tens = n % 100;
    const char* suffix = "th";
    if (tens < 11 || tens > 13) {
        switch (n % 10) {
            case 1: suffix = "st"; break;
            case 2: suffix = "nd"; break;
            case 3: suffix = "rd"; break;
            default: break;
        }
    }
    return std::to_string(n) + suffix;
}

// "a", "a and b", "a, b and c"
std::string join_english(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += (i + 1 == items.size()) ? " and " : ", ";
        out += items[i];
    }
    return out;
}

// The shape of one field's value set.
enum class Shape { all, single, run, stepped_full, stepped_part, list };

struct FieldSet {
    std::vector<int> values;  // sorted
    Shape shape = Shape::list;
    int step = 1;  // stepped_*: the common difference
};

// cycle: how many values the field has (60 seconds, 24 hours); 0 when the
// field has no fixed cycle (days of the month), in which case a stepped
// sequence counts as "full" when it reaches past the field's maximum.
FieldSet classify(std::uint64_t mask, int lo, int hi, int cycle) {
    FieldSet f;
    f.values = values_of(mask, lo, hi);
    const auto n = static_cast<int>(f.values.size());
    if (n == hi - lo + 1) {
        f.shape = Shape::all;
        return f;
    }
    if (n == 1) {
        f.shape = Shape::single;
        return f;
    }
    if (n == 0) return f;  // cannot come from the parser; read as an empty list
    const int d = f.values[1] - f.values[0];
    bool even = true;
    for (int i = 2; i < n; ++i)
        if (f.values[static_cast<std::size_t>(i)] - f.values[static_cast<std::size_t>(i) - 1] != d) even = false;
    if (even && d == 1 && n >= 3) {
        f.shape = Shape::run;
        return f;
    }
    if (even && d >= 2) {
        f.step = d;
        const int first = f.values.front();
        // Full: the sequence repeats with the same step across the wrap
        // ("*/15" minutes, "5/15" minutes, "0,12" hours), so "every N" is exact.
        const bool full = cycle > 0 ? (cycle % d == 0 && first - lo < d && n == cycle / d)
                                    : (first - lo < d && f.values.back() + d > hi && n >= 3);
        if (full) {
            f.shape = Shape::stepped_full;
            return f;
        }
        if (n >= 3) {
            f.shape = Shape::stepped_part;
            return f;
        }
    }
    f.shape = Shape::list;
    return f;
}

// "1 through 3, 7 and 9": runs of three or more values collapse.
std::string runs_text(const std::vector<int>& values) {
    std::vector<std::string> items;
    std::size_t i = 0;
    while (i < values.size()) {
        std::size_t j = i;
        while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
        if (j - i >= 2) {
            items.push_back(std::to_string(values[i]) + " through " + std::to_string(values[j]));
        } else {
            for (std::size_t k = i; k <= j; ++k) items.push_back(std::to_string(values[k]));
        }
        i = j + 1;
    }
    return join_english(items);
}

std::string clock(int h, int m) {
    return two_digits(h) + ":" + two_digits(m);
}
std::string clock(int h, int m, int s) {
    return s == 0 ? clock(h, m) : clock(h, m) + ":" + two_digits(s);
}

// ------------------------------------------------------------ time of day

// A seconds or minutes field as the start of the sentence ("Every 15 seconds").
std::string lead_phrase(const FieldSet& f, std::string_view unit, std::string_view units) {
    const std::string u{unit};
    const std::string us{units};
    switch (f.shape) {
        case Shape::all: return "Every " + u;
        case Shape::single: return "At " + u + " " + std::to_string(f.values.front());
        case Shape::run:
            return "Every " + u + " from " + std::to_string(f.values.front()) + " through " +
                   std::to_string(f.values.back());
        case Shape::stepped_full: {
            std::string s = "Every " + std::to_string(f.step) + " " + us;
            if (f.values.front() != 0) s += ", starting at " + u + " " + std::to_string(f.values.front());
            return s;
        }
        case Shape::stepped_part:
            return "Every " + std::to_string(f.step) + " " + us + " from " + std::to_string(f.values.front()) +
                   " through " + std::to_string(f.values.back());
        case Shape::list: break;
    }
    return "At " + us + " " + runs_text(f.values);
}

// The minutes field after a seconds lead ("At second 30, every 15 minutes").
// Empty when it adds nothing.
std::string minute_qualifier(const FieldSet& f) {
    switch (f.shape) {
        case Shape::all: return "";
        case Shape::single: return "at minute " + std::to_string(f.values.front());
        case Shape::run:
            return "during minutes " + std::to_string(f.values.front()) + " through " + std::to_string(f.values.back());
        case Shape::stepped_full: {
            std::string s = "every " + std::to_string(f.step) + " minutes";
            if (f.values.front() != 0) s += " starting at minute " + std::to_string(f.values.front());
            return s;
        }
        case Shape::stepped_part:
            return "every " + std::to_string(f.step) + " minutes from " + std::to_string(f.values.front()) +
                   " through " + std::to_string(f.values.back());
        case Shape::list: break;
    }
    return "at minutes " + runs_text(f.values);
}

// The hours field after a seconds or minutes lead. Empty for every hour.
std::string hour_qualifier(const FieldSet& f) {
    switch (f.shape) {
        case Shape::all: return "";
        case Shape::single: return "between " + clock(f.values.front(), 0) + " and " + clock(f.values.front(), 59);
        case Shape::run: return "between " + clock(f.values.front(), 0) + " and " + clock(f.values.back(), 59);
        case Shape::stepped_full: {
            std::string s = "during every " + ordinal(f.step) + " hour";
            if (f.values.front() != 0) s += " starting at hour " + std::to_string(f.values.front());
            return s;
        }
        case Shape::stepped_part:
            return "during every " + ordinal(f.step) + " hour from " + std::to_string(f.values.front()) + " through " +
                   std::to_string(f.values.back());
        case Shape::list: break;
    }
    return "during hours " + runs_text(f.values);
}

std::string time_phrase(const Spec& spec) {
    const FieldSet sec = classify(spec.seconds, 0, 59, 60);
    const FieldSet min = classify(spec.minutes, 0, 59, 60);
    const FieldSet hour = classify(spec.hours, 0, 23, 24);

    // One second and one minute: the hour field decides, and times read as clock times.
    if (sec.shape == Shape::single && min.shape == Shape::single) {
        const int s = sec.values.front();
        const int m = min.values.front();
        switch (hour.shape) {
            case Shape::single: return "At " + clock(hour.values.front(), m, s);
            case Shape::all:
                if (m == 0 && s == 0) return "Every hour";
                if (s == 0) return "At minute " + std::to_string(m) + " of every hour";
                return "At minute " + std::to_string(m) + ", second " + std::to_string(s) + " of every hour";
            case Shape::run:
                return "Every hour from " + clock(hour.values.front(), m, s) + " through " +
                       clock(hour.values.back(), m, s);
            case Shape::stepped_full: {
                std::string out = "Every " + std::to_string(hour.step) + " hours";
                if (hour.values.front() != 0 || m != 0 || s != 0)
                    out += ", starting at " + clock(hour.values.front(), m, s);
                return out;
            }
            case Shape::stepped_part:
                return "Every " + std::to_string(hour.step) + " hours from " + clock(hour.values.front(), m, s) +
                       " through " + clock(hour.values.back(), m, s);
            case Shape::list: {
                std::vector<std::string> times;
                for (int h : hour.values) times.push_back(clock(h, m, s));
                return "At " + join_english(times);
            }
        }
    }

    // A handful of clock times: list them ("At 09:00 and 09:30").
    if (sec.shape == Shape::single && min.shape != Shape::all && hour.shape != Shape::all &&
        min.values.size() * hour.values.size() <= 4) {
        std::vector<std::string> times;
        for (int h : hour.values)
            for (int m : min.values) times.push_back(clock(h, m, sec.values.front()));
        return "At " + join_english(times);
    }

    std::string out;
    const bool second_lead = !(sec.shape == Shape::single && sec.values.front() == 0);
    if (second_lead) {
        out = lead_phrase(sec, "second", "seconds");
        const bool at_form = sec.shape == Shape::single || sec.shape == Shape::list;
        if (min.shape == Shape::all) {
            if (at_form) out += " of every minute";
        } else {
            out += ", " + minute_qualifier(min);
        }
    } else {
        out = lead_phrase(min, "minute", "minutes");
    }
    const std::string hq = hour_qualifier(hour);
    if (!hq.empty()) out += ", " + hq;
    return out;
}

// ------------------------------------------------------------------ days

// Weekdays in a mask, in calendar order starting after a gap, so a set that
// wraps the week reads as one run: {6, 0} is "Saturday and Sunday", {0-4}
// "Sunday through Thursday". Without a wrap the order starts on Monday.
std::string weekdays_text(std::uint8_t mask) {
    auto has = [mask](int d) { return bit(mask, (d % 7 + 7) % 7); };
    int start = 1;
    for (int k = 0; k < 7; ++k) {
        const int d = (1 + k) % 7;  // Monday first
        if (has(d) && !has(d - 1)) {
            start = d;
            break;
        }
    }
    std::vector<std::string> items;
    int k = 0;
    while (k < 7) {
        const int d = (start + k) % 7;
        if (!has(d)) {
            ++k;
            continue;
        }
        int j = k;
        while (j + 1 < 7 && has((start + j + 1) % 7)) ++j;
        if (j - k >= 2) {
            items.push_back(std::string(kWeekdayNames[static_cast<std::size_t>(d)]) + " through " +
                            std::string(kWeekdayNames[static_cast<std::size_t>((start + j) % 7)]));
        } else {
            for (int i = k; i <= j; ++i) items.emplace_back(kWeekdayNames[static_cast<std::size_t>((start + i) % 7)]);
        }
        k = j + 1;
    }
    return join_english(items);
}

// "the first and third Monday", "the last Friday"; weekdays in Monday-first order.
std::vector<std::string> weekday_extras(const Spec& spec) {
    std::vector<std::string> items;
    for (int k = 0; k < 7; ++k) {
        const auto w = static_cast<std::size_t>((1 + k) % 7);
        std::vector<std::string> which;
        for (int n = 1; n <= 5; ++n)
            if (bit(spec.nth_weekday[w], n)) which.emplace_back(kNthWords[static_cast<std::size_t>(n)]);
        if (bit(spec.last_weekday_of, static_cast<int>(w))) which.emplace_back("last");
        if (!which.empty()) items.push_back("the " + join_english(which) + " " + std::string(kWeekdayNames[w]));
    }
    return items;
}

bool has_weekday_extras(const Spec& spec) {
    if (spec.last_weekday_of != 0) return true;
    for (auto b : spec.nth_weekday)
        if (b != 0) return true;
    return false;
}

// The day-of-week restriction without a leading "on"; `bare` is set when it
// is a single run of days ("Monday through Friday") that reads well alone.
std::string weekday_phrase(const Spec& spec, bool& bare) {
    std::vector<std::string> items;
    const auto mask = static_cast<std::uint8_t>(spec.days_of_week & 0x7FU);
    if (mask != 0) items.push_back(weekdays_text(mask));
    const bool extras = has_weekday_extras(spec);
    for (auto& e : weekday_extras(spec)) items.push_back(std::move(e));
    std::string out = join_english(items);
    if (extras) out += " of the month";
    const auto days = values_of(mask, 0, 6);
    bare = !extras && days.size() >= 3 && out.find(", ") == std::string::npos && out.find(" and ") == std::string::npos;
    return out;
}

// The day-of-month restriction ("day 1", "the last day", ...) followed by "of the month".
std::string month_day_phrase(const Spec& spec) {
    std::vector<std::string> items;
    const FieldSet days = classify(spec.days_of_month, 1, 31, 0);
    if (!days.values.empty()) {
        switch (days.shape) {
            case Shape::all: items.emplace_back("every day"); break;
            case Shape::single: items.push_back("day " + std::to_string(days.values.front())); break;
            case Shape::stepped_full: {
                std::string s = "every " + ordinal(days.step) + " day";
                if (days.values.front() != 1) s += " starting on day " + std::to_string(days.values.front());
                items.push_back(s);
                break;
            }
            case Shape::stepped_part:
                items.push_back("every " + ordinal(days.step) + " day from " + std::to_string(days.values.front()) +
                                " through " + std::to_string(days.values.back()));
                break;
            case Shape::run:
            case Shape::list: items.push_back("days " + runs_text(days.values)); break;
        }
    }
    for (int n = 1; n <= 31; ++n)
        if (bit(spec.nearest_weekday, n)) items.push_back("the weekday nearest day " + std::to_string(n));
    if (spec.last_business_day) items.emplace_back("the last weekday");
    if (spec.last_day_offset == 0) items.emplace_back("the last day");
    else if (spec.last_day_offset == 1) items.emplace_back("the day before the last day");
    else if (spec.last_day_offset > 1)
        items.push_back("the " + ordinal(spec.last_day_offset) + " day before the last day");
    return join_english(items) + " of the month";
}

// ", on day 1 of the month or on Monday" etc.; `month_used` is set when the
// month field was folded in ("on January 1").
std::string day_phrase(const Spec& spec, bool& month_used) {
    month_used = false;
    const bool dom = !spec.dom_any;
    const bool dow = !spec.dow_any;
    // A field that names every day ("1-31", "0-6") accepts every day; with the
    // Vixie either/or rule so does the pair, whatever the other field says.
    const bool dom_every_day = (spec.days_of_month & 0xFFFFFFFEU) == 0xFFFFFFFEU;
    const bool dow_every_day = (spec.days_of_week & 0x7FU) == 0x7FU;
    if ((dom && dom_every_day) || (dow && dow_every_day)) return "";
    if (dom && dow) {
        bool bare = false;
        return "on " + month_day_phrase(spec) + " or on " + weekday_phrase(spec, bare);
    }
    if (dow) {
        bool bare = false;
        const std::string w = weekday_phrase(spec, bare);
        return bare ? w : "on " + w;
    }
    if (dom) {
        const FieldSet months = classify(spec.months, 1, 12, 12);
        const FieldSet days = classify(spec.days_of_month, 1, 31, 0);
        const bool plain_day = days.shape == Shape::single && spec.nearest_weekday == 0 && !spec.last_business_day &&
                               spec.last_day_offset < 0;
        if (plain_day && months.shape == Shape::single) {
            month_used = true;
            return "on " + std::string(kMonthNames[static_cast<std::size_t>(months.values.front())]) + " " +
                   std::to_string(days.values.front());
        }
        return "on " + month_day_phrase(spec);
    }
    return "";
}

// ------------------------------------------------------- months and years

std::string months_phrase(std::uint16_t mask) {
    auto has = [mask](int m) { return bit(mask, (m - 1 + 12) % 12 + 1); };
    int all = 0;
    for (int m = 1; m <= 12; ++m) all += has(m) ? 1 : 0;
    if (all == 12 || all == 0) return "";
    int start = 1;  // first month whose predecessor is not in the set
    for (int m = 1; m <= 12; ++m) {
        if (has(m) && !has(m - 1)) {
            start = m;
            break;
        }
    }
    auto name = [](int m) { return std::string(kMonthNames[static_cast<std::size_t>((m - 1) % 12 + 1)]); };
    std::vector<std::string> items;
    int k = 0;
    while (k < 12) {
        if (!has(start + k)) {
            ++k;
            continue;
        }
        int j = k;
        while (j + 1 < 12 && has(start + j + 1)) ++j;
        if (j - k >= 2) {
            items.push_back(name(start + k) + " through " + name(start + j));
        } else {
            for (int i = k; i <= j; ++i) items.push_back(name(start + i));
        }
        k = j + 1;
    }
    return "in " + join_english(items);
}

std::string years_phrase(const Spec& spec) {
    if (spec.years_any) return "";
    std::vector<int> years;
    for (int y = kMinYear; y <= kMaxYear; ++y)
        if (spec.year_allowed(y)) years.push_back(y);
    if (years.empty()) return "";
    if (years.size() >= 3) {
        const int d = years[1] - years[0];
        bool even = d >= 2;
        for (std::size_t i = 2; i < years.size() && even; ++i) even = years[i] - years[i - 1] == d;
        if (even)
            return "every " + ordinal(d) + " year from " + std::to_string(years.front()) + " through " +
                   std::to_string(years.back());
    }
    return "in " + runs_text(years);
}

// ------------------------------------------------------------ @every

std::string every_phrase(std::int64_t ms) {
    struct Unit {
        std::int64_t ms;
        const char* one;
        const char* many;
    };
    constexpr Unit kUnits[] = {{3'600'000, "hour", "hours"},
                               {60'000, "minute", "minutes"},
                               {1'000, "second", "seconds"},
                               {1, "millisecond", "milliseconds"}};
    for (const Unit& u : kUnits) {
        if (ms % u.ms == 0) {
            const std::int64_t n = ms / u.ms;
            return n == 1 ? std::string("Every ") + u.one : "Every " + std::to_string(n) + " " + u.many;
        }
    }
    return "Every " + std::to_string(ms) + " milliseconds";  // unreachable: the last unit divides everything
}

}  // namespace

std::string describe(const Schedule& schedule) {
    const Spec& spec = schedule.spec();
    if (spec.kind == Kind::every) return every_phrase(spec.every_ms);

    std::string out = time_phrase(spec);
    bool month_used = false;
    const std::string days = day_phrase(spec, month_used);
    if (!days.empty()) out += ", " + days;
    if (!month_used) {
        const std::string months = months_phrase(spec.months);
        if (!months.empty()) out += ", " + months;
    }
    const std::string years = years_phrase(spec);
    if (!years.empty()) out += ", " + years;

    // The zone the schedule is evaluated in: its CRON_TZ prefix, or the zone
    // it was given; UTC goes unsaid unless the prefix names it.
    std::string_view zone = spec.zone_name();
    if (!schedule.zone().is_utc()) zone = schedule.zone().name();
    if (!zone.empty()) out += " (" + std::string(zone) + " time)";
    return out;
}

}  // namespace txflow::cron
