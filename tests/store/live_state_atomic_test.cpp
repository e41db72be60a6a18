// The atomic transaction records folded into the live state, and the
// snapshot (version 2) that carries them.
#include <catch2/catch.hpp>

#include "store/live_state_support.hpp"

namespace live_state_atomic_test {

using txflow::store::AtomicAck;
using txflow::store::AtomicBegin;
using txflow::store::AtomicDecision;
using txflow::store::AtomicRemoved;
using txflow::store::AtomicStalled;
using txflow::store::AtomicVote;
using txflow::store::LiveAtomic;
using txflow::store::LiveState;
using txflow::test::fold;

TEST_CASE("atomic records fold into the live state and survive a snapshot", "[atomic][live_state]") {
    LiveState s;
    REQUIRE(fold(s, AtomicBegin{"t1", "transfer", {"a", "b"}, R"({"amount":5})", 100}));
    REQUIRE(fold(s, AtomicVote{"t1", 1, false, "closed", 110}));
    REQUIRE(fold(s, AtomicDecision{"t1", false, "participant 'b' voted no: closed", 120}));
    REQUIRE(fold(s, AtomicAck{"t1", 0, 2, 130}));
    const auto back = LiveState::decode(s.encode());
    REQUIRE(back);
    REQUIRE(back->atomics.count("t1") == 1);
    const LiveAtomic& a = back->atomics.at("t1");
    CHECK(a.definition == "transfer");
    CHECK(a.data == R"({"amount":5})");
    CHECK(a.participants == std::vector<std::string>{"a", "b"});
    CHECK(a.votes == std::vector<LiveAtomic::Vote>{LiveAtomic::Vote::none, LiveAtomic::Vote::no});
    CHECK(a.reasons[1] == "closed");
    CHECK(a.decision == LiveAtomic::Decision::abort);
    CHECK(a.reason == "participant 'b' voted no: closed");
    CHECK(a.acked == std::vector<bool>{true, false});
    CHECK(a.created_ms == 100);
    CHECK(a.updated_ms == 130);
}

TEST_CASE("atomic records that do not fit the log are refused with a reason", "[atomic][live_state]") {
    LiveState s;
    std::string why;
    CHECK_FALSE(fold(s, AtomicVote{"nope", 0, true, "", 0}, &why));
    CHECK(why == "a atomic_vote record names transaction 'nope', which never began");
    REQUIRE(fold(s, AtomicBegin{"t", "x", {"a"}, "{}", 0}));
    CHECK_FALSE(fold(s, AtomicAck{"t", 0, 1, 0}, &why));
    CHECK(why == "an atomic_ack record for transaction 't' comes before its decision");
    CHECK_FALSE(fold(s, AtomicVote{"t", 3, true, "", 0}, &why));
    CHECK(why == "a atomic_vote record names participant 3 of transaction 't', which has 1");
    REQUIRE(fold(s, AtomicDecision{"t", true, "", 0}));
    CHECK_FALSE(fold(s, AtomicDecision{"t", false, "", 0}, &why));
    CHECK(why == "transaction 't' is decided twice");
}

TEST_CASE("a stalled participant is kept with its last error through a snapshot; a removed transaction is gone",
          "[atomic][live_state]") {
    LiveState s;
    REQUIRE(fold(s, AtomicBegin{"t1", "transfer", {"a", "b"}, "{}", 100}));
    REQUIRE(fold(s, AtomicDecision{"t1", true, {}, 120}));
    REQUIRE(fold(s, AtomicAck{"t1", 0, 1, 130}));
    REQUIRE(fold(s, AtomicStalled{"t1", 1, 5, "connection refused", 140}));
    REQUIRE(fold(s, AtomicBegin{"t2", "transfer", {"a"}, "{}", 150}));
    REQUIRE(fold(s, AtomicRemoved{"t2"}));
    std::string why;
    CHECK(!fold(s, AtomicStalled{"t1", 2, 1, "x", 160}, &why));
    CHECK(why == "a atomic_stalled record names participant 2 of transaction 't1', which has 2");
    const auto back = LiveState::decode(s.encode());
    REQUIRE(back);
    CHECK(back->atomics.count("t2") == 0);
    const LiveAtomic& a = back->atomics.at("t1");
    CHECK(a.stalled_attempts == std::vector<std::uint32_t>{0, 5});
    CHECK(a.last_errors[1] == "connection refused");
    CHECK(a.acked == std::vector<bool>{true, false});
}

}  // namespace live_state_atomic_test
