#pragma once
// Go-style durations ("90s", "1h30m", "250ms", "1.5h"): the one tokenizer
// behind the cron parser's @every and the schedule files' durations
// (txflow::schedule_file::parse_duration). constexpr: no allocation, no exceptions,
// so "@every ..."_cron literals run it at compile time. It reports what went
// wrong and where; each caller words (or codes) the error itself.
//
// Grammar accepted here: one or more terms, with nothing between them,
//   term   = number unit
//   number = digits [ "." [ digits ] ] | "." digits     (at least one digit)
//   unit   = "ns" | "us" | "ms" | "s" | "m" | "h", or micro as U+00B5 or
//            U+03BC followed by "s" (in UTF-8)
// No sign, no spaces, no bare number. Terms add up in long double
// nanoseconds; the total is rounded to the nearest nanosecond.
// The callers add their own rules: schedule_file::parse_duration also takes a
// leading '+', the bare "0" and zero durations; @every takes none of those
// and wants more than zero. Both want a whole number of milliseconds.

#include <cstdint>
#include <string_view>

namespace txflow::cron::detail {

enum class DurationError : std::uint8_t {
    none,
    empty,         // no text at all
    no_number,     // a term does not start with a number
    missing_unit,  // a number with no unit after it
    unknown_unit,  // a unit not in the list
    too_large,     // more than ~285 years (9e18 ns)
};

struct DurationParse {
    DurationError error = DurationError::none;
    std::int64_t ns = 0;  // the duration when error == none
    // Where it went wrong, a view into the text: the rest of the text from the
    // term that failed (no_number, missing_unit), the unit (unknown_unit), or
    // the whole text (empty, too_large).
    std::string_view where;
};

constexpr DurationParse parse_go_duration(std::string_view text) {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    DurationParse out;
    if (text.empty()) {
        out.error = DurationError::empty;
        out.where = text;
        return out;
    }
    // Accumulate in nanoseconds; cap well below int64 overflow.
    constexpr long double kCap = 9.0e18L;
    long double total_ns = 0;
    std::string_view s = text;
    while (!s.empty()) {
        long double value = 0;
        std::size_t i = 0;
        bool digits = false;
        while (i < s.size() && digit(s[i])) {
            value = value * 10 + (s[i] - '0');
            digits = true;
            ++i;
        }
        if (i < s.size() && s[i] == '.') {
            ++i;
            long double scale = 0.1L;
            while (i < s.size() && digit(s[i])) {
                value += scale * (s[i] - '0');
                scale /= 10;
                digits = true;
                ++i;
            }
        }
        if (!digits) {
            out.error = DurationError::no_number;
            out.where = s;
            return out;
        }
        std::size_t u = i;
        while (u < s.size() && !digit(s[u]) && s[u] != '.') ++u;
        const std::string_view unit = s.substr(i, u - i);
        long double ns_per_unit = 0;
        if (unit == "ns") ns_per_unit = 1;
        else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") ns_per_unit = 1e3L;
        else if (unit == "ms") ns_per_unit = 1e6L;
        else if (unit == "s") ns_per_unit = 1e9L;
        else if (unit == "m") ns_per_unit = 60e9L;
        else if (unit == "h") ns_per_unit = 3600e9L;
        else {
            out.error = unit.empty() ? DurationError::missing_unit : DurationError::unknown_unit;
            out.where = unit.empty() ? s : unit;
            return out;
        }
        total_ns += value * ns_per_unit;
        if (total_ns > kCap) {
            out.error = DurationError::too_large;
            out.where = text;
            return out;
        }
        s.remove_prefix(u);
    }
    out.ns = static_cast<std::int64_t>(total_ns + 0.5L);
    return out;
}

}  // namespace txflow::cron::detail
