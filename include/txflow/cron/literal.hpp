#pragma once
/// @file
/// Cron expressions checked by the compiler:
///
///     using namespace txflow::literals;
///     constexpr auto every_five = "0 */5 * * * *"_cron;   // a txflow::cron::Spec
///     constexpr auto bad = "0 0 25 * * *"_cron;            // does not compile
///
/// The literal runs the run-time parser (parse_spec) during constant
/// evaluation. A malformed literal fails to compile with an error that names
/// invalid_cron_literal<Field::hour, ErrorCode::out_of_range, column, value>.
/// Zone prefixes are checked for syntax here; whether the zone exists is
/// checked when a Schedule is made from the Spec at run time.

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "txflow/cron/parser.hpp"

namespace txflow::cron {

namespace detail {

template <std::size_t N>
struct LiteralText {
    char chars[N]{};
    // NOLINTNEXTLINE(google-explicit-constructor): a literal operator template needs the implicit form
    consteval LiteralText(const char (&text)[N]) { std::copy_n(text, N, chars); }
    [[nodiscard]] constexpr std::string_view view() const { return {chars, N - 1}; }
};

}  // namespace detail

/// Deliberately not constexpr: calling it during constant evaluation is the
/// compile error, and its template arguments are the message.
template <Field field, ErrorCode reason, int column, int value>
void invalid_cron_literal() {}

}  // namespace txflow::cron

namespace txflow::literals {

/// `"..."_cron`: the Spec of a cron literal, parsed and checked at compile time.
template <cron::detail::LiteralText text>
consteval cron::Spec operator""_cron() {
    constexpr auto parsed = cron::parse_spec(text.view());
    if constexpr (!parsed.has_value()) {
        constexpr cron::ParseError e = parsed.error();
        cron::invalid_cron_literal<e.field, e.code, e.column, e.value>();
        return {};
    } else {
        return parsed.value();
    }
}

}  // namespace txflow::literals
