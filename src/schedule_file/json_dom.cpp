#include "json_dom.hpp"

#include <utility>

#include <fmt/format.h>

#include "json_pointer.hpp"

namespace txflow::schedule_file::detail {
namespace {

using nlohmann::json;

// "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
// -> "invalid JSON at line 3, column 5: syntax error ..."
std::string describe_parse_error(std::string_view what) {
    if (const auto bracket = what.find("] "); bracket != std::string_view::npos) what.remove_prefix(bracket + 2);
    constexpr std::string_view kPrefix = "parse error at ";
    if (what.substr(0, kPrefix.size()) == kPrefix) what.remove_prefix(kPrefix.size());
    else if (what.substr(0, 12) == "parse error:") what.remove_prefix(12);
    while (!what.empty() && what.front() == ' ') what.remove_prefix(1);
    return fmt::format("invalid JSON at {}", what);
}

}  // namespace

bool DomBuilder::key(string_t& k) {
    Frame& f = stack_.back();
    next_pointer_ = child(f.pointer, k);
    if (f.value->contains(k)) {
        duplicates.push_back({next_pointer_, fmt::format("duplicate key '{}'", k)});
        duplicate_ = true;
    }
    key_ = std::move(k);
    return true;
}

bool DomBuilder::parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                             const nlohmann::detail::exception& ex) {
    fatal = Problem{"", describe_parse_error(ex.what())};
    return false;
}

bool DomBuilder::open(json container) {
    json* v = place(std::move(container));
    stack_.push_back({v, next_pointer_});
    if (stack_.size() <= kMaxJsonDepth) return true;
    const auto at = find_too_deep(text_, kMaxJsonDepth).value_or(TextPosition{});
    fatal =
        Problem{stack_.back().pointer, fmt::format("nested more than {} levels deep at line {}, column {} (byte {})",
                                                   kMaxJsonDepth, at.line, at.column, at.offset)};
    return false;
}

json* DomBuilder::place(json v) {
    if (stack_.empty()) {
        root = std::move(v);
        note("");
        return &root;
    }
    Frame& f = stack_.back();
    if (f.value->is_array()) {
        next_pointer_ = child(f.pointer, f.value->size());
        f.value->push_back(std::move(v));
        note(next_pointer_);
        return &f.value->back();
    }
    json& slot = (*f.value)[key_];
    slot = std::move(v);
    if (!duplicate_) note(next_pointer_);
    duplicate_ = false;
    return &slot;
}

std::optional<TextPosition> find_too_deep(std::string_view text, std::size_t max_depth) {
    TextPosition at;
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (at.offset = 0; at.offset < text.size(); ++at.offset, ++at.column) {
        const char c = text[at.offset];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return at;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if (c == '\n') {
            ++at.line;
            at.column = 0;
        }
    }
    return std::nullopt;
}

Result<json, std::string> parse_json(std::string_view text) {
    DomBuilder dom(text);
    if (!json::sax_parse(text, &dom, json::input_format_t::json, true, false))
        return unexpected(dom.fatal ? dom.fatal->to_string() : std::string("invalid JSON"));
    return std::move(dom.root);
}

}  // namespace txflow::schedule_file::detail
