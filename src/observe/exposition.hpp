#pragma once
// Pieces of the Prometheus text format 0.0.4 shared by the families and the registry.

#include <string>
#include <string_view>

namespace txflow::observe::detail {

// Label values: backslash, double quote and newline escaped.
void append_label_value(std::string& out, std::string_view value);
// HELP text: backslash and newline escaped.
void append_help(std::string& out, std::string_view help);
// A sample value: shortest round-trip decimal, or +Inf / -Inf / NaN.
void append_number(std::string& out, double v);

}  // namespace txflow::observe::detail
