// The record payloads' bytes and their `wal dump` JSON are frozen: WALs
// written by earlier versions must still load, so a change to a field list
// that moves a byte fails here (the hex was taken from the hand-written
// encoders this file outlived).

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "store/live_state.hpp"
#include "txflow/store/records.hpp"

namespace record_types_test {

namespace {

using namespace txflow::store;
using txflow::saga::State;

std::string hex(std::string_view bytes) {
    std::string out;
    for (char c : bytes) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
    return out;
}

template <class R>
void check(RecordType type, const R& r, std::string_view want_hex, std::string_view want_json) {
    const std::string bytes = encode(r);
    CHECK(hex(bytes) == want_hex);
    R back;
    REQUIRE(decode(bytes, back));
    CHECK(encode(back) == bytes);
    CHECK(record_to_json(Record{7, static_cast<std::uint16_t>(type), bytes}) == want_json);
    // One byte short, or one too many, never decodes.
    R torn;
    CHECK_FALSE(decode(std::string_view(bytes).substr(0, bytes.size() - 1), torn));
    CHECK_FALSE(decode(bytes + '\0', torn));
}

}  // namespace

TEST_CASE("record payloads keep their bytes and their dump", "[store][wal]") {
    check(
        RecordType::saga_created, SagaCreated{"order-1", "checkout", {"reserve", "charge"}, R"({"n":1})", -5},
        "076f726465722d3108636865636b6f757402077265736572766506636861726765077b226e223a317d09",
        R"({"at_ms":-5,"data":{"n":1},"definition":"checkout","saga":"order-1","seq":7,"steps":["reserve","charge"],"type":"saga_created"})");
    check(RecordType::saga_state, SagaStateChange{"order-1", State::failed, "boom", 1700000000000},
          "076f726465722d310304626f6f6d80a0abfef962",
          R"({"at_ms":1700000000000,"error":"boom","saga":"order-1","seq":7,"to":"failed","type":"saga_state"})");
    check(RecordType::saga_state, SagaStateChange{"o", State::running, "", 1}, "016f010002",
          R"({"at_ms":1,"saga":"o","seq":7,"to":"running","type":"saga_state"})");
    check(
        RecordType::step_state, StepStateChange{"order-1", 1, State::succeeded, "", std::string(R"({"a":2})"), 1500, 9},
        "076f726465722d3101020001077b2261223a327db81712",
        R"({"at_ms":9,"data":{"a":2},"duration_ns":1500,"saga":"order-1","seq":7,"step":1,"to":"succeeded","type":"step_state"})");
    check(
        RecordType::step_state, StepStateChange{"o", 300, State::failed, "bad", std::nullopt, 0, 2},
        "016fac020303626164000004",
        R"({"at_ms":2,"duration_ns":0,"error":"bad","saga":"o","seq":7,"step":300,"to":"failed","type":"step_state"})");
    check(
        RecordType::step_attempt, StepAttempt{"order-1", 2, true, 3, "timeout", 77, 10},
        "076f726465722d310201030774696d656f75749a0114",
        R"({"at_ms":10,"attempt":3,"compensation":true,"error":"timeout","saga":"order-1","seq":7,"step":2,"type":"step_attempt"})");
    check(RecordType::saga_data, SagaData{"order-1", "not json"}, "076f726465722d31086e6f74206a736f6e",
          R"({"data":"not json","saga":"order-1","seq":7,"type":"saga_data"})");
    check(RecordType::saga_removed, SagaRemoved{"order-1"}, "076f726465722d31",
          R"({"saga":"order-1","seq":7,"type":"saga_removed"})");
    check(RecordType::job_fired, JobFired{"nightly", 1700000000123}, "076e696768746c79f6a1abfef962",
          R"({"fire_ms":1700000000123,"job":"nightly","seq":7,"type":"job_fired"})");
    check(
        RecordType::retry_armed, RetryArmed{42, "nightly", 1700000000123, 2, 1700000001123},
        "2a076e696768746c79f6a1abfef96202c6b1abfef962",
        R"({"attempt":2,"due_ms":1700000001123,"fire_ms":1700000000123,"job":"nightly","retry":42,"seq":7,"type":"retry_armed"})");
    check(RecordType::retry_done, RetryDone{300}, "ac02", R"({"retry":300,"seq":7,"type":"retry_done"})");
    check(RecordType::retry_trace, RetryTrace{42, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
          "2a3730302d34626639326633353737623334646136613363653932396430653065343733362d30306630363761"
          "6130626139303262372d303100",
          R"({"retry":42,"seq":7,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",)"
          R"("type":"retry_trace"})");
    check(
        RecordType::dead_letter, DeadLetterAdded{5, "nightly", 1700000000123, 3, "", 1700000009000},
        "05076e696768746c79f6a1abfef9620300d0acacfef962",
        R"({"attempts":3,"dead_letter":5,"error":"","failed_ms":1700000009000,"fire_ms":1700000000123,"job":"nightly","seq":7,"type":"dead_letter"})");
    check(RecordType::dead_letter_removed, DeadLetterRemoved{5}, "05",
          R"({"dead_letter":5,"seq":7,"type":"dead_letter_removed"})");
}

TEST_CASE("a step view decodes the same bytes in place", "[store][wal]") {
    const std::string bytes = encode(StepStateChange{"order-1", 1, State::succeeded, "e", std::string("{}"), 1500, 9});
    StepStateView v;
    REQUIRE(decode(bytes, v));
    CHECK(v.id == "order-1");
    CHECK(v.step == 1);
    CHECK(v.to == State::succeeded);
    CHECK(v.error == "e");
    REQUIRE(v.data);
    CHECK(*v.data == "{}");
    CHECK(v.duration_ns == 1500);
    CHECK(v.at_ms == 9);
    // The views point into the payload: nothing was copied.
    CHECK(v.id.data() >= bytes.data());
    CHECK(v.id.data() < bytes.data() + bytes.size());

    const std::string attempt = encode(StepAttempt{"o", 4, false, 2, "x", 3, 4});
    StepAttemptView a;
    REQUIRE(decode(attempt, a));
    CHECK(a.id == "o");
    CHECK(a.attempt == 2);
    CHECK_FALSE(a.compensation);

    SagaStateChange bad_state;
    std::string bad = encode(SagaStateChange{"o", State::running, "", 1});
    bad[2] = static_cast<char>(200);  // the state byte, out of range
    CHECK_FALSE(decode(bad, bad_state));
}

}  // namespace record_types_test
