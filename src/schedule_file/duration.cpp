// Go-style durations and "did you mean" matching for schedule files.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/duration_text.hpp"
#include "txflow/cron/detail/duration.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::schedule_file {
namespace {

constexpr std::string_view kUnits = "use ns, us, ms, s, m or h";

// Optimal string alignment distance (Levenshtein plus adjacent swaps),
// case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::vector<std::size_t> d((n + 1) * (m + 1));
    const auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * (m + 1) + j]; };
    for (std::size_t i = 0; i <= n; ++i) at(i, 0) = i;
    for (std::size_t j = 0; j <= m; ++j) at(0, j) = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
        }
    }
    return at(n, m);
}

}  // namespace

// The grammar is cron::detail::parse_go_duration's (shared with @every; see
// txflow/cron/detail/duration.hpp), plus a leading '+', the bare "0" and zero
// durations. The result must be a whole number of milliseconds.
Result<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
    using cron::detail::DurationError;
    if (text.empty()) return unexpected(std::string("empty duration (e.g. \"90s\", \"1m30s\", \"500ms\")"));
    if (text == "0") return std::chrono::milliseconds{0};
    if (text.front() == '-') return unexpected(fmt::format("negative duration \"{}\"", text));
    std::string_view s = text;
    if (s.front() == '+') s.remove_prefix(1);
    const auto d = cron::detail::parse_go_duration(s);
    switch (d.error) {
        case DurationError::none: break;
        case DurationError::empty: return unexpected(fmt::format("no number in \"{}\"", text));
        case DurationError::no_number:
            return unexpected(
                fmt::format("expected a number at \"{}\" in \"{}\" (e.g. \"90s\", \"1m30s\")", d.where, text));
        case DurationError::missing_unit: return unexpected(fmt::format("missing unit in \"{}\" ({})", text, kUnits));
        case DurationError::unknown_unit:
            return unexpected(fmt::format("unknown unit \"{}\" in \"{}\" ({})", d.where, text, kUnits));
        case DurationError::too_large: return unexpected(fmt::format("duration \"{}\" is too large", text));
    }
    if (d.ns % 1'000'000 != 0)
        return unexpected(fmt::format("duration \"{}\" is not a whole number of milliseconds", text));
    return std::chrono::milliseconds{d.ns / 1'000'000};
}

std::string format_duration(std::chrono::milliseconds d) {
    return txflow::detail::format_duration(d);
}

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
    // Close enough to be a typo: at most a third of the longer word, and
    // at least one edit allowed ("retires" -> "retry" is 3 edits of 7).
    std::string_view best;
    std::size_t best_distance = 0;
    for (const std::string_view c : candidates) {
        const std::size_t dist = edit_distance(word, c);
        const std::size_t longer = std::max(word.size(), c.size());
        const std::size_t limit = std::max<std::size_t>(1, (longer + 1) / 2 - 1);
        if (dist > limit || dist >= c.size()) continue;
        if (best.empty() || dist < best_distance) {
            best = c;
            best_distance = dist;
        }
    }
    return std::string(best);
}

std::string Problem::to_string() const {
    if (pointer.empty()) return reason;
    return pointer + ": " + reason;
}

}  // namespace txflow::schedule_file
