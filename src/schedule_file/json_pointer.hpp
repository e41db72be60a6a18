#pragma once
// JSON pointers (RFC 6901) of values in a schedule file, built one step at a
// time while walking the document (private to src/schedule_file).

#include <cstddef>
#include <string>
#include <string_view>

namespace txflow::schedule_file::detail {

inline std::string escape_token(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (const char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

inline std::string child(const std::string& pointer, std::string_view key) {
    return pointer + '/' + escape_token(key);
}

inline std::string child(const std::string& pointer, std::size_t index) {
    return pointer + '/' + std::to_string(index);
}

}  // namespace txflow::schedule_file::detail
