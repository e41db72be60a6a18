// TraceContext: traceparent parsed strictly (errors say what is wrong), formatted back, random ids.

#include <catch2/catch.hpp>

#include <string>

#include "txflow/observe/trace.hpp"

namespace trace_context_test {

using Catch::Matchers::Contains;
using txflow::observe::TraceContext;

namespace {
constexpr const char* kExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string error_of(std::string_view text) {
    auto parsed = TraceContext::parse(text);
    REQUIRE_FALSE(parsed);
    return parsed.error();
}
}  // namespace

TEST_CASE("a valid traceparent parses and formats back unchanged", "[observe][trace]") {
    auto parsed = TraceContext::parse(kExample, "congo=t61rcWkgMzE");
    REQUIRE(parsed);
    CHECK(parsed->trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(parsed->span_id_hex() == "00f067aa0ba902b7");
    CHECK(parsed->sampled());
    CHECK(parsed->tracestate == "congo=t61rcWkgMzE");
    CHECK(parsed->traceparent() == kExample);
    auto unsampled = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    REQUIRE(unsampled);
    CHECK_FALSE(unsampled->sampled());
}

TEST_CASE("a later version may carry more fields; version 00 may not", "[observe][trace]") {
    CHECK(TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
    CHECK_THAT(error_of(std::string(kExample) + "-extra"), Contains("version 00 has 55 characters"));
}

TEST_CASE("a bad traceparent is refused with the reason", "[observe][trace]") {
    CHECK_THAT(error_of(""), Contains("too short (0 characters"));
    CHECK_THAT(error_of("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"), Contains("expected '-'"));
    CHECK_THAT(error_of("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
               Contains("the trace id is not 32 lowercase hex digits"));
    CHECK_THAT(error_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01"),
               Contains("the parent id is not 16 lowercase hex digits"));
    CHECK_THAT(error_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"), Contains("flags"));
    CHECK_THAT(error_of("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), Contains("version ff"));
    CHECK_THAT(error_of("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), Contains("trace id is all zeros"));
    CHECK_THAT(error_of("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), Contains("parent id is all zeros"));
    CHECK_THAT(error_of("00-x"), Contains("traceparent '00-x': "));  // the error quotes the input
}

TEST_CASE("new roots are valid and distinct; a child keeps the trace and gets a new span", "[observe][trace]") {
    const auto a = TraceContext::new_root();
    const auto b = TraceContext::new_root();
    CHECK(a.valid());
    CHECK(a.sampled());
    CHECK(a.trace_id != b.trace_id);
    const auto c = a.child();
    CHECK(c.trace_id == a.trace_id);
    CHECK(c.span_id != a.span_id);
    CHECK(c.valid());
    auto round = TraceContext::parse(c.traceparent());
    REQUIRE(round);
    CHECK(round->trace_id == c.trace_id);
    CHECK(round->span_id == c.span_id);
}

}  // namespace trace_context_test
