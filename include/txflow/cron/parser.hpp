#pragma once
/// @file
/// The cron parser. constexpr and allocation-free so the same code can check
/// "..."_cron literals at compile time; zone names are checked for syntax here
/// and for existence by parse() at run time.

#include <string_view>

#include "txflow/cron/parse_error.hpp"
#include "txflow/cron/spec.hpp"
#include "txflow/result.hpp"

namespace txflow::cron {

/// Parses `text` in `format`; the error names the field, column and reason. Usable in constant evaluation.
[[nodiscard]] constexpr Result<Spec, ParseError> parse_spec(std::string_view text, Format format = Format::any);

}  // namespace txflow::cron

#include "txflow/cron/detail/parser_impl.hpp"
