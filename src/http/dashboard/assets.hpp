#pragma once
// The UI's files (src/http/ui/), compiled in by cmake/TxflowEmbed.cmake.

#include <span>
#include <string_view>

namespace txflow::http::dash {

struct Asset {
    std::string_view path;  // "/index.html"
    std::string_view content_type;
    std::string_view body;
};

[[nodiscard]] std::span<const Asset> embedded_assets();

}  // namespace txflow::http::dash
