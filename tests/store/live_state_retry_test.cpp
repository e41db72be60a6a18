// Waiting retries and their traces (retry_armed, retry_trace, retry_done)
// folded into the live state, and the snapshot (version 6) that carries them.
#include <catch2/catch.hpp>

#include <string>

#include "store/live_state_support.hpp"

namespace live_state_retry_test {

using txflow::store::LiveState;
using txflow::store::RetryArmed;
using txflow::store::RetryDone;
using txflow::store::RetryTrace;
using txflow::test::fold;

namespace {

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

}  // namespace

TEST_CASE("a waiting retry keeps its trace through a snapshot until it is done", "[store][live_state][trace]") {
    LiveState s;
    REQUIRE(fold(s, RetryArmed{7, "flaky", 1000, 2, 61000}));
    REQUIRE(fold(s, RetryTrace{7, kParent, "vendor=1"}));
    REQUIRE(fold(s, RetryArmed{8, "other", 2000, 2, 62000}));  // untraced

    const auto back = LiveState::decode(s.encode());
    REQUIRE(back);
    CHECK(back->retries.size() == 2);
    REQUIRE(back->retry_traces.size() == 1);
    CHECK(back->retry_traces.at(7).traceparent == kParent);
    CHECK(back->retry_traces.at(7).tracestate == "vendor=1");

    REQUIRE(fold(s, RetryDone{7}));
    CHECK(s.retry_traces.empty());
    CHECK(LiveState::decode(s.encode())->retry_traces.empty());
}

TEST_CASE("a retry_trace for a retry that is not waiting is refused, saying which", "[store][live_state][trace]") {
    LiveState s;
    std::string why;
    CHECK_FALSE(fold(s, RetryTrace{9, kParent, ""}, &why));
    CHECK(why == "a retry_trace record names retry 9, which is not waiting");
}

}  // namespace live_state_retry_test
