#pragma once
/// @file
/// Wall times as tests write them: "2026-03-29T02:30:00" in a named zone, and
/// back to UTC text for messages and comparisons.

#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"

namespace txflow::testing {

/// "2026-01-01T00:00:00Z" or "...+05:30": that instant (the zone is ignored).
/// "2026-03-29T02:30:00" (no offset): that local time in `zone`. A local time
/// that occurs twice (DST ends) is the first; one that does not exist (DST
/// begins) is read with the offset before the gap, so it lands as far after
/// the gap as it was into it (02:30 in Berlin on 2026-03-29 is 03:30 CEST).
/// Throws std::invalid_argument for bad text or an unknown zone.
[[nodiscard]] TXFLOW_EXPORT WallTime wall_time(std::string_view text, std::string_view zone = "UTC");

/// "2026-01-01T00:00:00Z" (".250Z" when the instant has milliseconds).
[[nodiscard]] TXFLOW_EXPORT std::string utc_text(WallTime t);

}  // namespace txflow::testing
