// Test times: RFC 3339 text, or a local time read in a zone.

#include "txflow/testing/time.hpp"

#include <stdexcept>
#include <string>

#include "txflow/cron/zone.hpp"

namespace txflow::testing {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

// The instant whose local time in `zone` is `local` (a civil time written as
// if it were UTC), by the rules in time.hpp.
WallTime from_local(WallTime local, const cron::Zone& zone) {
    const auto local_s = std::chrono::floor<seconds>(local);
    const seconds before = zone.offset_at(local_s - hours{24});
    const seconds after = zone.offset_at(local_s + hours{24});
    const auto valid = [&](seconds offset) {
        const WallTime u = local - offset;
        return u + zone.offset_at(std::chrono::floor<seconds>(u)) == local;
    };
    const bool early_ok = valid(before);
    const bool late_ok = valid(after);
    if (early_ok && late_ok) return std::min(local - before, local - after);  // a fold: the first
    if (late_ok) return local - after;
    return local - before;  // valid, or in a gap: the offset before it
}

}  // namespace

WallTime wall_time(std::string_view text, std::string_view zone) {
    if (auto exact = cron::parse_rfc3339(text)) return *exact;
    const auto local = cron::parse_rfc3339(std::string(text) + "Z");
    if (!local) throw std::invalid_argument("wall_time: not an RFC 3339 time: '" + std::string(text) + "'");
    const cron::Zone* z = cron::Zone::find(zone);
    if (z == nullptr) throw std::invalid_argument("wall_time: unknown zone '" + std::string(zone) + "'");
    return from_local(*local, *z);
}

std::string utc_text(WallTime t) {
    return cron::to_rfc3339(t, cron::Zone::utc());
}

}  // namespace txflow::testing
