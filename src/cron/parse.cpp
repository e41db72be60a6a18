#include <cctype>
#include <string>

#include <fmt/format.h>

#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"

namespace txflow::cron {

Result<Schedule, ParseError> parse(std::string_view text, Format format) {
    auto spec = parse_spec(text, format);
    if (!spec) return unexpected(spec.error());
    const Zone* zone = nullptr;
    if (const std::string_view name = spec->zone_name(); !name.empty()) {
        zone = Zone::find(name);
        if (zone == nullptr) {
            ParseError e;
            e.code = ErrorCode::unknown_zone;
            const auto at = text.find(name);
            e.column = static_cast<std::uint16_t>(at == std::string_view::npos ? 0 : at + 1);
            detail::copy_token(e, name);
            return unexpected(e);
        }
    }
    return Schedule(*spec, zone);
}

std::string ParseError::reason() const {
    const std::string_view tok{token};
    switch (code) {
        case ErrorCode::empty_expression: return "empty expression";
        case ErrorCode::wrong_field_count:
            if (lo == hi) return fmt::format("expected {} fields, got {}", lo, value);
            if (hi == lo + 1) return fmt::format("expected {} or {} fields, got {}", lo, hi, value);
            return fmt::format("expected {} to {} fields, got {}", lo, hi, value);
        case ErrorCode::out_of_range: return fmt::format("{} is out of range {}-{}", value, lo, hi);
        case ErrorCode::reversed_range: return fmt::format("range {}-{} is reversed (start after end)", lo, hi);
        case ErrorCode::zero_step: return "step must be at least 1, got 0";
        case ErrorCode::empty_item: return "empty list item";
        case ErrorCode::unexpected_character: return fmt::format("unexpected \"{}\"", tok);
        case ErrorCode::unknown_name:
            if (field == Field::month) return fmt::format("unknown month name \"{}\" (use JAN-DEC)", tok);
            if (field == Field::day_of_week) return fmt::format("unknown weekday name \"{}\" (use SUN-SAT)", tok);
            return fmt::format("\"{}\" is not a number", tok);
        case ErrorCode::unknown_descriptor:
            return fmt::format(
                "unknown descriptor \"{}\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly "
                "or @every <duration>)",
                tok);
        case ErrorCode::question_mark_not_allowed: return "'?' is only allowed in day-of-month and day-of-week";
        case ErrorCode::special_not_allowed:
            if (field != Field::day_of_month && field != Field::day_of_week)
                return fmt::format("'{}' is only allowed in day-of-month or day-of-week", tok);
            if (tok == "W" || tok == "w") return "'W' is only allowed in day-of-month";
            return fmt::format("'{}' after a value is only allowed in day-of-week", tok);
        case ErrorCode::bad_nth:
            if (hi != 0) return fmt::format("'#' needs an occurrence from 1 to 5, got {}", value);
            return "'#' needs an occurrence from 1 to 5";
        case ErrorCode::ambiguous_last:
            return "a bare 'L' is ambiguous in day-of-week; write 6L or SATL for the last Saturday of the month";
        case ErrorCode::bad_duration:
            return fmt::format("malformed duration \"{}\" (examples: 90s, 1h30m, 250ms)", tok);
        case ErrorCode::duration_not_positive: return fmt::format("duration \"{}\" must be positive", tok);
        case ErrorCode::duration_sub_millisecond:
            return fmt::format("duration \"{}\" is not a whole number of milliseconds", tok);
        case ErrorCode::missing_expression:
            return fmt::format("time zone prefix \"{}\" has no expression after it", tok);
        case ErrorCode::bad_zone_name: return fmt::format("malformed time zone name \"{}\"", tok);
        case ErrorCode::unknown_zone: return fmt::format("unknown time zone \"{}\"", tok);
        case ErrorCode::number_too_large: return fmt::format("number \"{}\" is too large", tok);
        case ErrorCode::zone_prefix_case: {
            std::string upper(tok);
            for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return fmt::format("time zone prefix \"{}\" must be upper case (did you mean {}?)", tok, upper);
        }
    }
    return std::string(describe(code));
}

std::string ParseError::message() const {
    if (field != Field::none)
        return fmt::format("{} (field {}, col {}): {}", field_name(field), field_number, column, reason());
    if (column != 0) return fmt::format("col {}: {}", column, reason());
    return reason();
}

}  // namespace txflow::cron
