// Text forms: Schedule::to_string() and RFC 3339 instants.
#include <date/date.h>
#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <iterator>
#include <vector>

#include "common/duration_text.hpp"
#include "txflow/cron/schedule.hpp"

namespace txflow::cron {
namespace {

bool has(std::uint64_t mask, int bit) {
    return ((mask >> bit) & 1U) != 0;
}

// Smallest step k such that lo, lo+k, ... hi are all in mask (1 when full).
int star_step(std::uint64_t mask, int lo, int hi) {
    for (int k = 1; k <= hi - lo + 1; ++k) {
        bool all = true;
        for (int v = lo; v <= hi && all; v += k) all = has(mask, v);
        if (all) return k;
    }
    return hi - lo + 1;
}

// "1-5,10,20-40/10" style list of the set bits in [lo, hi].
void append_list(std::string& out, std::uint64_t mask, int lo, int hi) {
    std::vector<int> values;
    for (int v = lo; v <= hi; ++v)
        if (has(mask, v)) values.push_back(v);
    if (values.size() >= 3) {
        const int step = values[1] - values[0];
        bool progression = step > 1;
        for (std::size_t i = 2; i < values.size() && progression; ++i) progression = values[i] - values[i - 1] == step;
        if (progression) {
            fmt::format_to(std::back_inserter(out), "{}{}-{}/{}", out.empty() || out.back() == ' ' ? "" : ",",
                           values.front(), values.back(), step);
            return;
        }
    }
    for (std::size_t i = 0; i < values.size();) {
        std::size_t j = i;
        while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
        if (!out.empty() && out.back() != ' ') out += ',';
        if (j == i) fmt::format_to(std::back_inserter(out), "{}", values[i]);
        else fmt::format_to(std::back_inserter(out), "{}-{}", values[i], values[j]);
        i = j + 1;
    }
}

void append_time_field(std::string& out, std::uint64_t mask, int lo, int hi, bool star) {
    if (star) {
        const int step = star_step(mask, lo, hi);
        if (step == 1) {
            out += '*';
            return;
        }
        fmt::format_to(std::back_inserter(out), "*/{}", step);
        for (int v = lo; v <= hi; v += step) mask &= ~(std::uint64_t{1} << v);
    }
    append_list(out, mask, lo, hi);
}

}  // namespace

std::string Schedule::to_string() const {
    const Spec& s = spec_;
    std::string out;
    if (!s.zone_name().empty()) fmt::format_to(std::back_inserter(out), "CRON_TZ={} ", s.zone_name());
    if (s.kind == Kind::every)
        return out + "@every " + txflow::detail::format_duration(std::chrono::milliseconds{s.every_ms});

    append_time_field(out, s.seconds, 0, 59, (s.star_fields & 1U) != 0);
    out += ' ';
    append_time_field(out, s.minutes, 0, 59, (s.star_fields & 2U) != 0);
    out += ' ';
    append_time_field(out, s.hours, 0, 23, (s.star_fields & 4U) != 0);
    out += ' ';

    if (s.dom_any) {
        out += '*';
    } else {
        append_list(out, s.days_of_month, 1, 31);
        auto item = [&out](std::string_view text) {
            if (!out.empty() && out.back() != ' ') out += ',';
            out += text;
        };
        if (s.last_day_offset == 0) item("L");
        if (s.last_day_offset > 0) item(fmt::format("L-{}", s.last_day_offset));
        if (s.last_business_day) item("LW");
        for (int d = 1; d <= 31; ++d)
            if (has(s.nearest_weekday, d)) item(fmt::format("{}W", d));
    }
    out += ' ';

    if (s.months == 0x1FFE) out += '*';
    else append_list(out, s.months, 1, 12);
    out += ' ';

    if (s.dow_any) {
        out += '*';
    } else {
        append_list(out, s.days_of_week, 0, 6);
        for (int w = 0; w < 7; ++w) {
            if (has(s.last_weekday_of, w)) {
                if (out.back() != ' ') out += ',';
                fmt::format_to(std::back_inserter(out), "{}L", w);
            }
            for (int n = 1; n <= 5; ++n) {
                if (has(s.nth_weekday[static_cast<std::size_t>(w)], n)) {
                    if (out.back() != ' ') out += ',';
                    fmt::format_to(std::back_inserter(out), "{}#{}", w, n);
                }
            }
        }
    }

    if (!s.years_any) {
        out += ' ';
        std::string years;
        std::vector<int> list;
        for (int y = kMinYear; y <= kMaxYear; ++y)
            if (s.year_allowed(y)) list.push_back(y);
        for (std::size_t i = 0; i < list.size();) {
            std::size_t j = i;
            while (j + 1 < list.size() && list[j + 1] == list[j] + 1) ++j;
            if (!years.empty()) years += ',';
            years += j == i ? fmt::format("{}", list[i]) : fmt::format("{}-{}", list[i], list[j]);
            i = j + 1;
        }
        out += years;
    }
    return out;
}

std::string to_rfc3339(Instant t, const Zone& zone) {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const auto offset = zone.offset_at(std::chrono::floor<seconds>(t));
    const auto local = t + offset;
    const auto day = std::chrono::floor<date::days>(local);
    const date::year_month_day ymd{date::sys_days{day}};
    const date::hh_mm_ss<milliseconds> tod{std::chrono::duration_cast<milliseconds>(local - day)};
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                  tod.hours().count(), tod.minutes().count(), tod.seconds().count());
    if (tod.subseconds().count() != 0) out += fmt::format(".{:03}", tod.subseconds().count());
    if (zone.is_utc()) return out + "Z";
    const auto off = offset.count();
    const auto abs = off < 0 ? -off : off;
    out += fmt::format("{}{:02}:{:02}", off < 0 ? '-' : '+', abs / 3600, abs / 60 % 60);
    if (abs % 60 != 0) out += fmt::format(":{:02}", abs % 60);
    return out;
}

std::optional<Instant> parse_rfc3339(std::string_view text) {
    std::size_t pos = 0;
    auto number = [&](std::size_t digits, int& out) {
        if (pos + digits > text.size()) return false;
        out = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            const char c = text[pos + i];
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        pos += digits;
        return true;
    };
    auto expect = [&](std::string_view chars) {
        if (pos < text.size() && chars.find(text[pos]) != std::string_view::npos) {
            ++pos;
            return true;
        }
        return false;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!number(4, y) || !expect("-") || !number(2, mo) || !expect("-") || !number(2, d)) return std::nullopt;
    if (!expect("Tt ") || !number(2, h) || !expect(":") || !number(2, mi) || !expect(":") || !number(2, s))
        return std::nullopt;
    int ms = 0;
    if (expect(".")) {
        int digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (digits < 3) ms = ms * 10 + (text[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 3; ++i) ms *= 10;
    }
    int offset = 0;
    if (expect("Zz")) {
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!number(2, oh) || !expect(":") || !number(2, om) || oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const auto local = date::sys_days{ymd} + seconds{h * 3600 + mi * 60 + s} + milliseconds{ms};
    return Instant{local - seconds{offset}};
}

}  // namespace txflow::cron
