// The Prometheus text format 0.0.4: escaping, numbers, and one series of each cell type.

#include "observe/exposition.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "txflow/observe/family.hpp"

namespace txflow::observe {
namespace detail {

void append_label_value(std::string& out, std::string_view value) {
    for (const char c : value) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
}

void append_help(std::string& out, std::string_view help) {
    for (const char c : help) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
}

void append_number(std::string& out, double v) {
    if (std::isnan(v)) out += "NaN";
    else if (std::isinf(v)) out += v > 0 ? "+Inf" : "-Inf";
    else fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace detail

namespace {

void open_series(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels) {
    out += name;
    out += suffix;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
}

}  // namespace

void write_series(std::string& out, std::string_view name, std::string_view labels, const Counter& cell) {
    open_series(out, name, "", labels);
    fmt::format_to(std::back_inserter(out), "{}\n", cell.value());
}

void write_series(std::string& out, std::string_view name, std::string_view labels, const Gauge& cell) {
    open_series(out, name, "", labels);
    detail::append_number(out, cell.value());
    out += '\n';
}

void write_series(std::string& out, std::string_view name, std::string_view labels, const Histogram& cell) {
    const auto bounds = cell.bounds();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += cell.bucket(i);
        out += name;
        out += "_bucket{";
        if (!labels.empty()) {
            out += labels;
            out += ',';
        }
        out += "le=\"";
        if (i < bounds.size()) detail::append_number(out, bounds[i]);
        else out += "+Inf";
        fmt::format_to(std::back_inserter(out), "\"}} {}\n", cumulative);
    }
    open_series(out, name, "_sum", labels);
    detail::append_number(out, cell.sum());
    out += '\n';
    open_series(out, name, "_count", labels);
    fmt::format_to(std::back_inserter(out), "{}\n", cumulative);
}

}  // namespace txflow::observe
