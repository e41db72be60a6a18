// The nesting limit of schedule files and TXFLOW_DATA lines: refused while
// parsing, with the pointer and the line and column of the first bracket
// too deep, fast whatever the input's depth.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "schedule_file/json_dom.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace json_depth_test {

using txflow::schedule_file::kMaxJsonDepth;
using txflow::schedule_file::parse_text;
using txflow::schedule_file::Problems;

namespace {

std::string nested_arrays(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

std::string zeros_pointer(std::size_t count) {
    std::string pointer;
    for (std::size_t i = 0; i < count; ++i) pointer += "/0";
    return pointer;
}

Problems problems_of(const std::string& text) {
    auto r = parse_text(text, "/srv/app");
    if (r) return {};
    return r.error();
}

}  // namespace

TEST_CASE("json depth: the limit is 64 levels, counting the top-level value", "[config][json_depth]") {
    STATIC_REQUIRE(kMaxJsonDepth == 64);
    // 64 levels parse; what is wrong then is the schema, not the nesting.
    const Problems at_limit = problems_of(nested_arrays(64));
    REQUIRE(at_limit.size() == 1);
    CHECK(at_limit[0].reason.find("nested") == std::string::npos);

    const Problems over = problems_of(nested_arrays(65));
    REQUIRE(over.size() == 1);
    CHECK(over[0].pointer == zeros_pointer(64));
    CHECK(over[0].reason == "nested more than 64 levels deep at line 1, column 65 (byte 64)");
}

TEST_CASE("json depth: the error names the value's pointer, line and column", "[config][json_depth]") {
    // Levels: the document 1, "jobs" 2, the job 3, "input" 4, then "x" holds 61 arrays (levels 5 to 65).
    const std::string text =
        "{\"version\": 1,\n \"jobs\": [{\"name\": \"j\", \"every\": \"1h\",\n   \"input\": {\"x\": " +
        nested_arrays(61) + "}}]}";
    const Problems p = problems_of(text);
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer == "/jobs/0/input/x" + zeros_pointer(60));
    CHECK(p[0].reason == "nested more than 64 levels deep at line 3, column 79 (byte 132)");
    CHECK(text[132] == '[');
}

TEST_CASE("json depth: brackets inside strings do not count", "[config][json_depth]") {
    const std::string deep_text = "\"" + std::string(1000, '[') + "\\\"{{{" + "\"";
    const Problems p = problems_of(R"({"version": 1, "description": )" + deep_text + "}");
    CHECK(p.empty());
    CHECK_FALSE(txflow::schedule_file::detail::find_too_deep(deep_text, 1));
}

TEST_CASE("json depth: 200,000 levels are refused at once", "[config][json_depth]") {
    const std::string text = nested_arrays(200'000);  // 400 KB
    const auto t0 = std::chrono::steady_clock::now();
    const Problems p = problems_of(text);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE(p.size() == 1);
    CHECK(p[0].reason == "nested more than 64 levels deep at line 1, column 65 (byte 64)");
    // Milliseconds in fact (it stops at the 65th bracket); generous for a loaded machine.
    CHECK(elapsed < std::chrono::milliseconds(500));
}

TEST_CASE("json depth: TXFLOW_DATA lines have the same limit", "[config][json_depth]") {
    using txflow::schedule_file::detail::parse_json;
    const auto ok = parse_json(R"({"a": [[1]], "a": 2})");
    REQUIRE(ok);
    CHECK((*ok)["a"] == 2);  // duplicates: the last wins, as json::parse does
    const auto deep = parse_json("{\"a\": " + nested_arrays(100'000) + "}");
    REQUIRE_FALSE(deep);
    CHECK(deep.error() ==
          "/a" + zeros_pointer(63) + ": nested more than 64 levels deep at line 1, column 70 (byte 69)");
    const auto bad = parse_json("{\"a\": ");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().rfind("invalid JSON at line 1", 0) == 0);
}

}  // namespace json_depth_test
