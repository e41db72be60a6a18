#pragma once
/// @file
/// An IANA time zone as the cron engine needs it: the UTC offset in force at
/// an instant and the span over which it holds. Backed by Howard Hinnant's
/// date/tz (the OS tz database); past the database's last transition (Debian
/// ships "fat" files that stop in 2037) the zone's POSIX rule takes over, so
/// DST stays right to year 9999.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

namespace date {
class time_zone;
}

namespace txflow::cron {

/// A UTC instant with millisecond precision: what cron schedules compute.
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

/// Sentinels for the spans that open and close time (about years -29000 and 33000).
inline constexpr std::chrono::sys_seconds kFarPast{std::chrono::seconds{-1'000'000'000'000}};
/// Sentinel for the span that closes time (see kFarPast).
inline constexpr std::chrono::sys_seconds kFarFuture{std::chrono::seconds{1'000'000'000'000}};

/// A stretch of time over which a zone's UTC offset stays the same.
struct TXFLOW_EXPORT OffsetSpan {
    std::chrono::sys_seconds begin;  ///< first instant with this offset
    std::chrono::sys_seconds end;    ///< first instant after it
    std::chrono::seconds offset;     ///< local = utc + offset
};

/// An IANA time zone: its UTC offset at any instant (see the file's notes on far-future rules).
class TXFLOW_EXPORT Zone {
public:
    /// Zones live for the whole process, like date's tz database; pointers stay valid.
    [[nodiscard]] static const Zone& utc();
    /// nullptr when the database has no such zone.
    [[nodiscard]] static const Zone* find(std::string_view name);

    /// The IANA name, e.g. "Europe/Berlin".
    [[nodiscard]] std::string_view name() const { return name_; }
    /// True for the UTC zone.
    [[nodiscard]] bool is_utc() const { return tz_ == nullptr; }
    /// The offset in force at `t` and the span over which it holds.
    [[nodiscard]] OffsetSpan span_at(std::chrono::sys_seconds t) const;
    /// The UTC offset in force at `t` (local = utc + offset).
    [[nodiscard]] std::chrono::seconds offset_at(std::chrono::sys_seconds t) const { return span_at(t).offset; }

    Zone(const Zone&) = delete;
    Zone& operator=(const Zone&) = delete;
    ~Zone();

private:
    struct PosixRule;
    Zone(std::string name, const date::time_zone* tz);
    void load_rule();
    void build_table();
    [[nodiscard]] OffsetSpan span_from_database(std::chrono::sys_seconds t) const;

    std::string name_;
    const date::time_zone* tz_;  // nullptr: UTC
    std::chrono::sys_seconds rule_from_{std::chrono::sys_seconds::max()};
    std::unique_ptr<PosixRule> rule_;  // the TZif footer, used from rule_from_ on
    // Spans from 1900 to 2200, merged where the offset does not change: a
    // binary search here is several times faster than asking date/tz.
    std::vector<OffsetSpan> table_;
};

/// "2026-03-08T03:00:00-04:00" (".250" added when the instant has milliseconds).
[[nodiscard]] TXFLOW_EXPORT std::string to_rfc3339(Instant t, const Zone& zone);
/// Accepts "2026-03-08T03:00:00Z", "...+05:30", "...-04:00", fractions to the
/// millisecond, a space instead of 'T', and lowercase 't'/'z'.
[[nodiscard]] TXFLOW_EXPORT std::optional<Instant> parse_rfc3339(std::string_view text);

}  // namespace txflow::cron
