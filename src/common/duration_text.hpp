#pragma once
// The one text form of a duration, used by every layer that prints one (the
// lowest, cron, included; so it includes nothing of txflow): Go style
// without zero parts, largest unit first: "1h30m", "1m30s", "250ms",
// "1s500ms", "0s". schedule_file::parse_duration and @every read it back.

#include <chrono>
#include <cstdint>
#include <string>

namespace txflow::detail {

[[nodiscard]] inline std::string format_duration(std::chrono::milliseconds d) {
    std::int64_t ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out += '-';
        ms = -ms;  // durations here are never near INT64_MIN
    }
    const auto part = [&out](std::int64_t n, const char* unit) {
        if (n == 0) return;
        out += std::to_string(n);
        out += unit;
    };
    part(ms / 3'600'000, "h");
    part(ms / 60'000 % 60, "m");
    part(ms / 1000 % 60, "s");
    part(ms % 1000, "ms");
    return out;
}

}  // namespace txflow::detail
