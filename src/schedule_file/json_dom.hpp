#pragma once
// Parsing JSON text into a DOM for schedule files and TXFLOW_DATA lines
// (private to src/schedule_file).
//
// A SAX handler of our own instead of json::parse, for what the DOM parser
// cannot give: duplicate keys (which json::parse silently resolves by
// keeping the last), each value's position in the document (to sort
// problems), and a nesting limit enforced while parsing, so that
// "[[[[...]]]]" is refused at its 65th bracket in bounded time and memory.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "txflow/core/export.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::schedule_file::detail {

// Builds the DOM like json::parse; also notes duplicate keys and the order
// in which values appear, and stops at the first value nested deeper than
// kMaxJsonDepth.
class DomBuilder final : public nlohmann::json_sax<nlohmann::json> {
public:
    explicit DomBuilder(std::string_view text) : text_(text) {}

    nlohmann::json root;
    Problems duplicates;                                 // duplicate keys (the last value wins)
    std::optional<Problem> fatal;                        // the syntax error or the nesting too deep
    std::unordered_map<std::string, std::size_t> order;  // pointer -> position in the document

    bool null() override { return value(nullptr); }
    bool boolean(bool v) override { return value(v); }
    bool number_integer(number_integer_t v) override { return value(v); }
    bool number_unsigned(number_unsigned_t v) override { return value(v); }
    bool number_float(number_float_t v, const string_t& /*text*/) override { return value(v); }
    bool string(string_t& v) override { return value(std::move(v)); }
    bool binary(binary_t& v) override { return value(nlohmann::json::binary(std::move(v))); }
    bool start_object(std::size_t /*elements*/) override { return open(nlohmann::json::object()); }
    bool key(string_t& k) override;
    bool end_object() override { return close(); }
    bool start_array(std::size_t /*elements*/) override { return open(nlohmann::json::array()); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t position, const std::string& last_token,
                     const nlohmann::detail::exception& ex) override;

private:
    struct Frame {
        nlohmann::json* value;
        std::string pointer;
    };

    bool value(nlohmann::json v) {
        place(std::move(v));
        return true;
    }
    bool open(nlohmann::json container);
    bool close() {
        stack_.pop_back();
        return true;
    }
    nlohmann::json* place(nlohmann::json v);
    void note(const std::string& pointer) { order.emplace(pointer, order.size()); }

    std::string_view text_;
    std::vector<Frame> stack_;
    std::string key_;
    std::string next_pointer_;
    bool duplicate_ = false;
};

// Where the first array or object nested deeper than `max_depth` opens:
// 1-based line and column (in bytes) and the 0-based byte offset; nullopt
// when nothing is that deep. Only meaningful for text that is valid JSON up
// to that point, as it is when DomBuilder stopped there.
struct TextPosition {
    std::size_t line = 1;
    std::size_t column = 1;
    std::size_t offset = 0;
};
[[nodiscard]] TXFLOW_EXPORT std::optional<TextPosition> find_too_deep(std::string_view text, std::size_t max_depth);

// A JSON value of any kind, duplicates resolved as json::parse does (the
// last wins), nested at most kMaxJsonDepth deep; or why not.
[[nodiscard]] TXFLOW_EXPORT Result<nlohmann::json, std::string> parse_json(std::string_view text);

}  // namespace txflow::schedule_file::detail
