#pragma once
// Implementation of parse_spec(); included by txflow/cron/parser.hpp only.
// Everything here is constexpr: no allocation, no exceptions.

#include <cstdint>
#include <string_view>

#include "txflow/cron/detail/duration.hpp"

namespace txflow::cron::detail {

struct FieldRule {
    Field field;
    int lo;
    int hi;
};

inline constexpr FieldRule kSecondRule{Field::second, 0, 59};
inline constexpr FieldRule kMinuteRule{Field::minute, 0, 59};
inline constexpr FieldRule kHourRule{Field::hour, 0, 23};
inline constexpr FieldRule kDomRule{Field::day_of_month, 1, 31};
inline constexpr FieldRule kMonthRule{Field::month, 1, 12};
inline constexpr FieldRule kDowRule{Field::day_of_week, 0, 7};  // 7 is Sunday too
inline constexpr FieldRule kYearRule{Field::year, kMinYear, kMaxYear};

constexpr char to_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_upper(a[i]) != to_upper(b[i])) return false;
    return true;
}

constexpr void copy_token(ParseError& e, std::string_view text) {
    const std::size_t n = text.size() < sizeof(e.token) - 1 ? text.size() : sizeof(e.token) - 1;
    for (std::size_t i = 0; i < n; ++i) e.token[i] = text[i];
    e.token[n] = '\0';
}

// Builds errors with the context (field, position) of the field being parsed.
struct Context {
    std::string_view text;  // the whole expression as given
    Field field = Field::none;
    std::uint8_t field_number = 0;

    [[nodiscard]] constexpr std::uint16_t column_of(std::string_view part) const {
        return static_cast<std::uint16_t>(part.data() - text.data() + 1);
    }
    [[nodiscard]] constexpr Unexpected<ParseError> fail(ErrorCode code, std::string_view where, int value = 0,
                                                        int lo = 0, int hi = 0) const {
        ParseError e;
        e.code = code;
        e.field = field;
        e.field_number = field_number;
        e.column = column_of(where);
        e.value = value;
        e.lo = lo;
        e.hi = hi;
        copy_token(e, where);
        return {e};
    }
};

inline constexpr std::string_view kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
inline constexpr std::string_view kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// A number or a name at the front of `s`; advances `s` past it.
struct Number {
    int value = -1;  // -1: none found
    bool too_large = false;
    bool unknown_name = false;
    std::string_view token;
};

constexpr Number take_value(std::string_view& s, Field field) {
    Number n;
    std::size_t i = 0;
    if (i < s.size() && is_digit(s[i])) {
        long v = 0;
        while (i < s.size() && is_digit(s[i])) {
            v = v * 10 + (s[i] - '0');
            if (v > 1'000'000) n.too_large = true;
            if (v > 1'000'000) v = 1'000'000;
            ++i;
        }
        n.value = static_cast<int>(v);
    } else if (i < s.size() && is_alpha(s[i])) {
        while (i < s.size() && is_alpha(s[i])) ++i;
        // Names are three letters; in day-of-week "FRIL" is FRI followed by L.
        if (field == Field::day_of_week && i == 4 && to_upper(s[3]) == 'L') i = 3;
        const std::string_view name = s.substr(0, i);
        n.unknown_name = true;
        if (field == Field::month) {
            for (int k = 0; k < 12; ++k)
                if (iequals(name, kMonthNames[k])) n = Number{k + 1, false, false, {}};
        } else if (field == Field::day_of_week) {
            for (int k = 0; k < 7; ++k)
                if (iequals(name, kDayNames[k])) n = Number{k, false, false, {}};
        }
        if (n.unknown_name) {
            while (i < s.size() && is_alpha(s[i])) ++i;  // report the whole run: "FOO", "JANUARY"
        }
    }
    n.token = s.substr(0, i);
    s.remove_prefix(i);
    return n;
}

constexpr void set_bit(std::uint64_t& mask, int bit) {
    mask |= std::uint64_t{1} << bit;
}

struct FieldResult {
    std::uint64_t mask = 0;
    bool any = false;  // '*' or '?' (or "*/1")
    bool starts_with_star = false;
    // Day extras, filled only for dom/dow.
    std::uint8_t last_weekday_of = 0;
    std::array<std::uint8_t, 7> nth_weekday{};
    std::uint32_t nearest_weekday = 0;
    std::int8_t last_day_offset = -1;
    bool last_business_day = false;
    std::array<std::uint64_t, 3> years{};
};

constexpr Result<int, ParseError> check_value(const Context& ctx, const FieldRule& rule, const Number& n) {
    if (n.too_large) return ctx.fail(ErrorCode::number_too_large, n.token);
    if (n.value < rule.lo || n.value > rule.hi)
        return ctx.fail(ErrorCode::out_of_range, n.token, n.value, rule.lo, rule.hi);
    return n.value;
}

// Parses one comma-separated item of a field into `out`.
constexpr Result<bool, ParseError> parse_item(const Context& ctx, const FieldRule& rule, std::string_view item,
                                              FieldResult& out) {
    const bool is_dom = rule.field == Field::day_of_month;
    const bool is_dow = rule.field == Field::day_of_week;
    std::string_view s = item;

    if (s == "?") {
        if (!is_dom && !is_dow) return ctx.fail(ErrorCode::question_mark_not_allowed, item);
        out.any = true;
        return true;
    }

    // Quartz day-of-month extras: L, L-n, LW, nW.
    if (is_dom && !s.empty() && to_upper(s[0]) == 'L') {
        if (s.size() == 1) {
            out.last_day_offset = 0;
            return true;
        }
        if (s.size() == 2 && to_upper(s[1]) == 'W') {
            out.last_business_day = true;
            return true;
        }
        if (s[1] == '-') {
            std::string_view rest = s.substr(2);
            const Number n = take_value(rest, Field::none);
            if (n.value < 0)
                return ctx.fail(rest.empty() ? ErrorCode::empty_item : ErrorCode::unexpected_character, s.substr(2));
            if (!rest.empty()) return ctx.fail(ErrorCode::unexpected_character, rest);
            if (n.too_large || n.value > 30) return ctx.fail(ErrorCode::out_of_range, n.token, n.value, 0, 30);
            out.last_day_offset = static_cast<std::int8_t>(n.value);
            return true;
        }
        return ctx.fail(ErrorCode::unexpected_character, s.substr(1));
    }
    if (is_dow && s.size() == 1 && to_upper(s[0]) == 'L') return ctx.fail(ErrorCode::ambiguous_last, s);

    bool star = false;
    int start = rule.lo;
    int end = rule.hi;
    if (!s.empty() && s[0] == '*') {
        star = true;
        s.remove_prefix(1);
    } else {
        const Number a = take_value(s, rule.field);
        if (a.value < 0) {
            if (a.unknown_name && (iequals(a.token, "L") || iequals(a.token, "W") || iequals(a.token, "LW")))
                return ctx.fail(ErrorCode::special_not_allowed, a.token);
            if (a.unknown_name) return ctx.fail(ErrorCode::unknown_name, a.token);
            if (s.empty()) return ctx.fail(ErrorCode::empty_item, item);
            return ctx.fail(ErrorCode::unexpected_character, s.substr(0, 1));
        }
        auto av = check_value(ctx, rule, a);
        if (!av) return unexpected(av.error());
        start = *av;
        end = start;

        if (!s.empty() && (to_upper(s[0]) == 'W' || to_upper(s[0]) == 'L' || s[0] == '#')) {
            const char special = to_upper(s[0]);
            const std::string_view special_at = s.substr(0, 1);
            s.remove_prefix(1);
            if (special == 'W') {
                if (!is_dom) return ctx.fail(ErrorCode::special_not_allowed, special_at);
                if (!s.empty()) return ctx.fail(ErrorCode::unexpected_character, s);
                out.nearest_weekday |= std::uint32_t{1} << start;
                return true;
            }
            if (!is_dow) return ctx.fail(ErrorCode::special_not_allowed, special_at);
            const int weekday = start % 7;
            if (special == 'L') {
                if (!s.empty()) return ctx.fail(ErrorCode::unexpected_character, s);
                out.last_weekday_of |= static_cast<std::uint8_t>(1U << weekday);
                return true;
            }
            // '#'
            const std::string_view nth_at = s;
            const Number n = take_value(s, Field::none);
            if (n.value < 0) return ctx.fail(ErrorCode::bad_nth, nth_at.empty() ? special_at : nth_at);
            if (n.too_large || n.value < 1 || n.value > 5) return ctx.fail(ErrorCode::bad_nth, n.token, n.value, 1, 5);
            if (!s.empty()) return ctx.fail(ErrorCode::unexpected_character, s);
            out.nth_weekday[static_cast<std::size_t>(weekday)] |= static_cast<std::uint8_t>(1U << n.value);
            return true;
        }

        if (!s.empty() && s[0] == '-') {
            s.remove_prefix(1);
            const Number b = take_value(s, rule.field);
            if (b.value < 0) {
                if (b.unknown_name) return ctx.fail(ErrorCode::unknown_name, b.token);
                if (s.empty()) return ctx.fail(ErrorCode::empty_item, item);
                return ctx.fail(ErrorCode::unexpected_character, s.substr(0, 1));
            }
            auto bv = check_value(ctx, rule, b);
            if (!bv) return unexpected(bv.error());
            end = *bv;
            if (end < start) return ctx.fail(ErrorCode::reversed_range, item, start, start, end);
        } else if (!s.empty() && s[0] == '/') {
            end = rule.hi;                                               // "5/15": from 5 to the field's maximum
            if (rule.field == Field::day_of_week && start < 7) end = 6;  // 7 is Sunday again
        }
    }

    int step = 1;
    if (!s.empty() && s[0] == '/') {
        const std::string_view slash = s;
        s.remove_prefix(1);
        const Number st = take_value(s, Field::none);
        if (st.value < 0)
            return ctx.fail(s.empty() ? ErrorCode::empty_item : ErrorCode::unexpected_character,
                            s.empty() ? slash : s.substr(0, 1));
        if (st.too_large) return ctx.fail(ErrorCode::number_too_large, st.token);
        if (st.value == 0) return ctx.fail(ErrorCode::zero_step, st.token);
        step = st.value;
    }
    if (!s.empty()) return ctx.fail(ErrorCode::unexpected_character, s.substr(0, 1));

    if (star) {
        out.starts_with_star = true;
        if (step == 1) out.any = true;
        if (rule.field == Field::day_of_week) end = 6;  // "*/2" over 0-6, not 0-7
    }
    if (rule.field == Field::year) {
        for (int v = start; v <= end; v += step) {
            const int b = v - kMinYear;
            out.years[static_cast<std::size_t>(b / 64)] |= std::uint64_t{1} << (b % 64);
        }
        return true;
    }
    if (step == 1) {
        out.mask |= ((std::uint64_t{2} << (end - start)) - 1) << start;
    } else {
        for (int v = start; v <= end; v += step) set_bit(out.mask, v);
    }
    return true;
}

constexpr Result<FieldResult, ParseError> parse_field(const Context& ctx, const FieldRule& rule,
                                                      std::string_view field) {
    FieldResult out;
    // Fast paths for the two most common shapes: "*" and a plain number.
    if (field.size() == 1 && field[0] == '*' && rule.field != Field::year) {
        const int hi = rule.field == Field::day_of_week ? 6 : rule.hi;
        out.mask = ((std::uint64_t{2} << (hi - rule.lo)) - 1) << rule.lo;
        out.any = true;
        out.starts_with_star = true;
        return out;
    }
    if (field.size() <= 2 && is_digit(field[0]) && (field.size() == 1 || is_digit(field[1]))) {
        const int v = field.size() == 1 ? field[0] - '0' : (field[0] - '0') * 10 + (field[1] - '0');
        if (v >= rule.lo && v <= rule.hi && rule.field != Field::year) {
            out.mask = std::uint64_t{1} << (rule.field == Field::day_of_week && v == 7 ? 0 : v);
            return out;
        }
    }
    std::size_t pos = 0;
    bool first = true;
    while (true) {
        std::size_t comma = pos;
        while (comma < field.size() && field[comma] != ',') ++comma;
        const std::string_view item = field.substr(pos, comma - pos);
        if (item.empty())
            return ctx.fail(ErrorCode::empty_item, field.substr(pos < field.size() ? pos : field.size() - 1, 1));
        auto r = parse_item(ctx, rule, item, out);
        if (!r) return unexpected(r.error());
        if (first && item[0] == '*') out.starts_with_star = true;
        first = false;
        if (comma >= field.size()) break;
        pos = comma + 1;
        if (pos >= field.size()) return ctx.fail(ErrorCode::empty_item, field.substr(comma, 1));
    }
    if (rule.field == Field::day_of_week && (out.mask & (std::uint64_t{1} << 7)) != 0) {
        out.mask = (out.mask | 1U) & 0x7FU;  // 7 is Sunday
    }
    return out;
}

// @every: a Go-style duration ("90s", "1h30m", "250ms", "1.5h"); the grammar is
// in duration.hpp. More than zero and a whole number of milliseconds.
constexpr Result<std::int64_t, ParseError> parse_duration(const Context& ctx, std::string_view text) {
    const DurationParse d = parse_go_duration(text);
    switch (d.error) {
        case DurationError::none: break;
        case DurationError::too_large: return ctx.fail(ErrorCode::number_too_large, d.where);
        case DurationError::empty:
        case DurationError::no_number:
        case DurationError::missing_unit:
        case DurationError::unknown_unit: return ctx.fail(ErrorCode::bad_duration, d.where);
    }
    if (d.ns <= 0) return ctx.fail(ErrorCode::duration_not_positive, text);
    if (d.ns % 1'000'000 != 0) return ctx.fail(ErrorCode::duration_sub_millisecond, text);
    return d.ns / 1'000'000;
}

constexpr Result<Spec, ParseError> parse_descriptor(const Context& ctx, std::string_view text, Spec spec) {
    std::size_t n = 0;
    while (n < text.size() && !is_space(text[n])) ++n;
    const std::string_view name = text.substr(0, n);
    std::string_view rest = text.substr(n);
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);

    if (iequals(name, "@every")) {
        if (rest.empty()) return ctx.fail(ErrorCode::bad_duration, name);
        auto ms = parse_duration(ctx, rest);
        if (!ms) return unexpected(ms.error());
        spec.kind = Kind::every;
        spec.every_ms = *ms;
        return spec;
    }
    // Descriptors are all wall-clock fixed except @hourly (its hour is '*').
    spec.seconds = 1;
    spec.minutes = 1;
    spec.hours = 1;
    spec.days_of_month = 0xFFFFFFFEU;
    spec.months = 0x1FFE;
    spec.days_of_week = 0x7F;
    if (iequals(name, "@yearly") || iequals(name, "@annually")) {
        spec.days_of_month = 1U << 1;
        spec.months = 1U << 1;
        spec.dom_any = false;
    } else if (iequals(name, "@monthly")) {
        spec.days_of_month = 1U << 1;
        spec.dom_any = false;
    } else if (iequals(name, "@weekly")) {
        spec.days_of_week = 1;
        spec.dow_any = false;
    } else if (iequals(name, "@daily") || iequals(name, "@midnight")) {
    } else if (iequals(name, "@hourly")) {
        spec.hours = 0xFFFFFF;
        spec.star_fields = 1U << 2;
    } else {
        return ctx.fail(ErrorCode::unknown_descriptor, name);
    }
    if (!rest.empty()) return ctx.fail(ErrorCode::unexpected_character, rest);
    return spec;
}

constexpr bool zone_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '/' || c == '_' || c == '-' || c == '+';
}

}  // namespace txflow::cron::detail

namespace txflow::cron {

constexpr Result<Spec, ParseError> parse_spec(std::string_view text, Format format) {
    using namespace detail;
    Context ctx{text};
    Spec spec;

    std::string_view s = text;
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    if (s.empty()) {
        ParseError e;
        e.code = ErrorCode::empty_expression;
        return unexpected(e);
    }

    // CRON_TZ=Zone or TZ=Zone prefix, in upper case as every cron accepts it.
    for (std::string_view prefix : {std::string_view{"CRON_TZ="}, std::string_view{"TZ="}}) {
        if (s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix)) {
            const std::string_view written = s.substr(0, prefix.size());
            if (written != prefix) return ctx.fail(ErrorCode::zone_prefix_case, written);
            s.remove_prefix(prefix.size());
            std::size_t n = 0;
            while (n < s.size() && !is_space(s[n])) ++n;
            const std::string_view zone = s.substr(0, n);
            if (zone.empty() || zone.size() >= spec.zone.size()) {
                return ctx.fail(ErrorCode::bad_zone_name, zone.empty() ? s.substr(0, 0) : zone);
            }
            for (char c : zone) {
                if (!zone_char(c)) return ctx.fail(ErrorCode::bad_zone_name, zone);
            }
            for (std::size_t i = 0; i < zone.size(); ++i) spec.zone[i] = zone[i];
            s.remove_prefix(n);
            while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
            if (s.empty()) return ctx.fail(ErrorCode::missing_expression, zone);
            break;
        }
    }

    if (s.front() == '@') return parse_descriptor(ctx, s, spec);

    // Split into fields.
    std::string_view fields[8];
    int count = 0;
    while (!s.empty()) {
        std::size_t n = 0;
        while (n < s.size() && !is_space(s[n])) ++n;
        if (count < 8) fields[count] = s.substr(0, n);
        ++count;
        s.remove_prefix(n);
        while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    }

    int min_fields = 5;
    int max_fields = 7;
    switch (format) {
        case Format::unix_: min_fields = max_fields = 5; break;
        case Format::seconds: min_fields = max_fields = 6; break;
        case Format::quartz: min_fields = 6; break;
        case Format::any: break;
    }
    if (count < min_fields || count > max_fields) {
        const std::string_view where = count > max_fields ? fields[max_fields] : fields[0];
        return ctx.fail(ErrorCode::wrong_field_count, where, count, min_fields, max_fields);
    }

    const bool has_seconds = count >= 6;
    const FieldRule* rules_with_seconds[] = {&kSecondRule, &kMinuteRule, &kHourRule, &kDomRule,
                                             &kMonthRule,  &kDowRule,    &kYearRule};
    const FieldRule* const* rules = has_seconds ? rules_with_seconds : rules_with_seconds + 1;

    spec.seconds = 1;  // 5 fields: second 0, written or not
    for (int i = 0; i < count; ++i) {
        const FieldRule& rule = *rules[i];
        ctx.field = rule.field;
        ctx.field_number = static_cast<std::uint8_t>(i + 1);
        auto r = parse_field(ctx, rule, fields[i]);
        if (!r) return unexpected(r.error());
        const FieldResult& f = *r;
        switch (rule.field) {
            case Field::second:
                spec.seconds = f.mask;
                if (f.starts_with_star) spec.star_fields |= 1U;
                break;
            case Field::minute:
                spec.minutes = f.mask;
                if (f.starts_with_star) spec.star_fields |= 2U;
                break;
            case Field::hour:
                spec.hours = static_cast<std::uint32_t>(f.mask);
                if (f.starts_with_star) spec.star_fields |= 4U;
                break;
            case Field::day_of_month:
                spec.days_of_month = static_cast<std::uint32_t>(f.mask);
                spec.dom_any = f.any;
                if (f.any) {  // "*,L" is every day: the extras add nothing
                    spec.days_of_month = 0xFFFFFFFEU;
                    break;
                }
                spec.last_day_offset = f.last_day_offset;
                spec.last_business_day = f.last_business_day;
                spec.nearest_weekday = f.nearest_weekday;
                break;
            case Field::month: spec.months = static_cast<std::uint16_t>(f.mask | (f.any ? 0x1FFEU : 0U)); break;
            case Field::day_of_week:
                spec.days_of_week = static_cast<std::uint8_t>(f.mask);
                spec.dow_any = f.any;
                if (f.any) {
                    spec.days_of_week = 0x7F;
                    break;
                }
                spec.last_weekday_of = f.last_weekday_of;
                spec.nth_weekday = f.nth_weekday;
                break;
            case Field::year:
                spec.years_any = f.any;
                spec.years = f.years;
                if (f.any) spec.years = {};
                break;
            case Field::none: break;
        }
    }
    return spec;
}

}  // namespace txflow::cron
