#pragma once
/// @file
/// The parsed form of a cron expression: one bitset per field plus the Quartz
/// day extras. A literal type, so it can be built during constant evaluation.

#include <array>
#include <cstdint>
#include <string_view>
#include "txflow/core/export.hpp"

namespace txflow::cron {

/// Which cron dialect parse_spec() accepts: how many fields, and which.
enum class Format : std::uint8_t {
    unix_,    ///< exactly 5 fields: min hour dom mon dow
    seconds,  ///< exactly 6 fields: sec min hour dom mon dow
    quartz,   ///< 6 or 7 fields (7th: year 1970-2099)
    any,      ///< 5, 6 or 7 fields (the default; "auto" on the command line)
};

/// A cron field schedule, or an `@every <duration>` interval.
enum class Kind : std::uint8_t { cron, every };

inline constexpr int kMinYear = 1970;  ///< Quartz's year field range
/// The last year Quartz's year field accepts.
inline constexpr int kMaxYear = 2099;

/// A parsed cron expression as plain constexpr data; Schedule evaluates it in a zone.
struct TXFLOW_EXPORT Spec {
    Kind kind = Kind::cron;  ///< cron fields, or an `@every` interval (every_ms)

    std::uint64_t seconds = 0;        ///< bit n: second n
    std::uint64_t minutes = 0;        ///< bit n: minute n
    std::uint32_t hours = 0;          ///< bit n: hour n
    std::uint32_t days_of_month = 0;  ///< bit n: day n (1-31)
    std::uint16_t months = 0;         ///< bit n: month n (1-12)
    std::uint8_t days_of_week = 0;    ///< bit n: weekday n, Sunday = 0

    // Quartz day extras.
    std::uint8_t last_weekday_of = 0;           ///< bit w: the last weekday w of the month ("5L")
    std::array<std::uint8_t, 7> nth_weekday{};  ///< [w] bit n: the n-th weekday w ("5#3")
    std::uint32_t nearest_weekday = 0;          ///< bit n: the weekday nearest to day n ("15W")
    std::int8_t last_day_offset = -1;           ///< "L" = 0, "L-3" = 3; -1: not used
    bool last_business_day = false;             ///< "LW"

    bool dom_any = true;  ///< day-of-month was '*' or '?' (Vixie rule: both restricted = either)
    bool dow_any = true;  ///< day-of-week was '*' or '?'
    /// Which of second/minute/hour were written starting with '*'; decides the
    /// DST behaviour (wall-clock fixed vs interval-like).
    std::uint8_t star_fields = 0;  ///< bit 0 second, 1 minute, 2 hour

    bool years_any = true;                 ///< no year field, or '*': every year allowed
    std::array<std::uint64_t, 3> years{};  ///< bit (y - kMinYear)

    std::int64_t every_ms = 0;  ///< Kind::every

    std::array<char, 64> zone{};  ///< CRON_TZ= prefix, NUL-terminated; empty = none

    /// True when no second/minute/hour field starts with '*': fires keep their wall time across DST.
    [[nodiscard]] constexpr bool wall_clock_fixed() const { return kind == Kind::cron && star_fields == 0; }
    /// The CRON_TZ= prefix's zone name; empty when there is none.
    [[nodiscard]] constexpr std::string_view zone_name() const {
        std::size_t n = 0;
        while (n < zone.size() && zone[n] != '\0') ++n;
        return {zone.data(), n};
    }
    /// Whether year `y` matches the year field.
    [[nodiscard]] constexpr bool year_allowed(int y) const {
        if (years_any) return true;
        if (y < kMinYear || y > kMaxYear) return false;
        const int b = y - kMinYear;
        return ((years[static_cast<std::size_t>(b / 64)] >> (b % 64)) & 1U) != 0;
    }

    /// Field-by-field equality.
    friend constexpr bool operator==(const Spec&, const Spec&) = default;
};

}  // namespace txflow::cron
