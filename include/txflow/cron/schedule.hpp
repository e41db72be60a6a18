#pragma once
/// @file
/// A cron schedule as an immutable value: parse once, ask for fires forever.
///
///     auto s = txflow::cron::parse("CRON_TZ=Europe/Berlin 0 30 2 * * MON-FRI");
///     if (!s) std::cerr << s.error().message();
///     std::optional<Instant> fire = s->next(now);
///
/// next()/prev() are pure functions of (schedule, instant): no locks, no
/// allocation, safe to call from any thread.
///
/// DST rules (ISC cron): a schedule is *wall-clock fixed* unless its second,
/// minute or hour field starts with '*' (then it is *interval-like*).
/// - spring-forward gap: fixed fires once at the first instant after the gap;
///   interval-like has no fires in the missing local times.
/// - fall-back overlap: fixed fires once, at the first occurrence;
///   interval-like fires at every real occurrence.
/// Several local times mapping to one instant fire once; fires are strictly
/// after (next) or strictly before (prev) the given instant.

#include <optional>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/cron/parse_error.hpp"
#include "txflow/cron/spec.hpp"
#include "txflow/cron/zone.hpp"
#include "txflow/result.hpp"

namespace txflow::cron {

/// Fires are searched up to the end of this year; later ones are "no fire".
inline constexpr int kLastSupportedYear = 9999;

/// A cron schedule (Spec) bound to a zone: computes fire instants.
class TXFLOW_EXPORT Schedule {
public:
    /// Zone: the CRON_TZ prefix's if the spec has one and zone is not given,
    /// else zone, else UTC.
    explicit Schedule(const Spec& spec, const Zone* zone = nullptr);

    /// The first fire strictly after `after`; nullopt when there is none (up to kLastSupportedYear).
    [[nodiscard]] std::optional<Instant> next(Instant after) const;
    /// The last fire strictly before `before`; nullopt when there is none.
    [[nodiscard]] std::optional<Instant> prev(Instant before) const;

    /// The same schedule evaluated in another zone, unless it names its own
    /// zone with a prefix (the prefix wins, as in robfig/cron).
    [[nodiscard]] Schedule in_zone(const Zone& zone) const;

    /// The parsed fields.
    [[nodiscard]] const Spec& spec() const { return spec_; }
    /// The zone fires are computed in.
    [[nodiscard]] const Zone& zone() const { return *zone_; }
    /// True when fires keep their wall time across DST (see Spec::wall_clock_fixed()).
    [[nodiscard]] bool wall_clock_fixed() const { return spec_.wall_clock_fixed(); }

    /// Canonical text; parse(to_string()) gives an equal schedule.
    [[nodiscard]] std::string to_string() const;

    /// Same fields and same zone.
    friend bool operator==(const Schedule& a, const Schedule& b) { return a.spec_ == b.spec_ && a.zone_ == b.zone_; }

private:
    Spec spec_;
    const Zone* zone_;
};

/// Formats: unix (5 fields), seconds (6), quartz (6 or 7), any (5, 6 or 7).
/// Never throws; every rejection says which field, where and why.
[[nodiscard]] TXFLOW_EXPORT Result<Schedule, ParseError> parse(std::string_view text, Format format = Format::any);

/// "At 02:30, Monday through Friday"
[[nodiscard]] TXFLOW_EXPORT std::string describe(const Schedule& schedule);

}  // namespace txflow::cron
