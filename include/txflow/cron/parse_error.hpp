#pragma once
/// @file
/// Why a cron expression was rejected: which field, where, and the reason.
/// Plain data (no std::string) so the same parser can report it during
/// constant evaluation; message() renders it for people.

#include <cstdint>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

namespace txflow::cron {

/// The cron field an error is about (none: the expression as a whole).
enum class Field : std::uint8_t { none, second, minute, hour, day_of_month, month, day_of_week, year };

/// Why a cron expression was rejected.
enum class ErrorCode : std::uint8_t {
    empty_expression,
    wrong_field_count,  ///< value = fields seen, lo/hi = accepted counts
    out_of_range,       ///< value, lo, hi
    reversed_range,     ///< value = start, hi = end
    zero_step,
    empty_item,            ///< ",," or a leading/trailing comma
    unexpected_character,  ///< token holds the character
    unknown_name,          ///< token holds the name
    unknown_descriptor,    ///< token holds "@name"
    question_mark_not_allowed,
    special_not_allowed,  ///< L, W or # where the field does not take it
    bad_nth,              ///< "#n" with n outside 1-5: value
    ambiguous_last,       ///< a bare "L" in day-of-week
    bad_duration,         ///< `@every`: token holds the offending part
    duration_not_positive,
    duration_sub_millisecond,
    missing_expression,  ///< "CRON_TZ=Zone" with nothing after it
    bad_zone_name,       ///< token holds the name
    unknown_zone,        ///< token holds the name
    number_too_large,
    zone_prefix_case,  ///< "cron_tz=": token holds the prefix as written
};

/// A rejected cron expression: the code, the field and column, and the offending value or text.
struct TXFLOW_EXPORT ParseError {
    ErrorCode code{};               ///< why
    Field field = Field::none;      ///< which field; Field::none for the expression as a whole
    std::uint8_t field_number = 0;  ///< 1-based position among the fields as written; 0 = none
    std::uint16_t column = 0;       ///< 1-based column in the text; 0 = none
    int value = 0;                  ///< the offending number (see ErrorCode for which codes set it)
    int lo = 0;                     ///< lower bound of the accepted range, when the code has one
    int hi = 0;                     ///< upper bound of the accepted range, when the code has one
    char token[48]{};               ///< the offending name or text, truncated

    /// "hour (field 3, col 5): 25 is out of range 0-23"
    [[nodiscard]] std::string message() const;
    /// The reason alone: "25 is out of range 0-23"
    [[nodiscard]] std::string reason() const;
    /// A fixed description of the code, usable at compile time.
    [[nodiscard]] static constexpr std::string_view describe(ErrorCode code);
};

/// The field's name in messages: "hour", "day-of-month", ...; "expression" for Field::none.
[[nodiscard]] constexpr std::string_view field_name(Field f) {
    switch (f) {
        case Field::second: return "second";
        case Field::minute: return "minute";
        case Field::hour: return "hour";
        case Field::day_of_month: return "day-of-month";
        case Field::month: return "month";
        case Field::day_of_week: return "day-of-week";
        case Field::year: return "year";
        case Field::none: break;
    }
    return "expression";
}

constexpr std::string_view ParseError::describe(ErrorCode code) {
    switch (code) {
        case ErrorCode::empty_expression: return "empty expression";
        case ErrorCode::wrong_field_count: return "wrong number of fields";
        case ErrorCode::out_of_range: return "value out of range";
        case ErrorCode::reversed_range: return "range start is after its end";
        case ErrorCode::zero_step: return "step must be at least 1";
        case ErrorCode::empty_item: return "empty list item";
        case ErrorCode::unexpected_character: return "unexpected character";
        case ErrorCode::unknown_name: return "unknown name";
        case ErrorCode::unknown_descriptor: return "unknown descriptor";
        case ErrorCode::question_mark_not_allowed: return "'?' is only allowed in day-of-month and day-of-week";
        case ErrorCode::special_not_allowed: return "L, W or # is not allowed here";
        case ErrorCode::bad_nth: return "'#' needs an occurrence from 1 to 5";
        case ErrorCode::ambiguous_last: return "a bare 'L' in day-of-week is ambiguous";
        case ErrorCode::bad_duration: return "malformed duration";
        case ErrorCode::duration_not_positive: return "duration must be positive";
        case ErrorCode::duration_sub_millisecond: return "duration must be a whole number of milliseconds";
        case ErrorCode::missing_expression: return "time zone prefix has no expression after it";
        case ErrorCode::bad_zone_name: return "malformed time zone name";
        case ErrorCode::unknown_zone: return "unknown time zone";
        case ErrorCode::number_too_large: return "number too large";
        case ErrorCode::zone_prefix_case: return "time zone prefix must be CRON_TZ= or TZ= in upper case";
    }
    return "invalid expression";
}

}  // namespace txflow::cron
