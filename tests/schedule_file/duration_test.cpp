// Go-style durations in schedule files.
#include <catch2/catch.hpp>

#include <chrono>
#include <initializer_list>
#include <string>

#include "txflow/cron/parser.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace duration_test {

using namespace std::chrono_literals;
using txflow::schedule_file::format_duration;
using txflow::schedule_file::parse_duration;

TEST_CASE("durations: valid Go-style text", "[config][duration]") {
    CHECK(*parse_duration("0") == 0ms);
    CHECK(*parse_duration("0s") == 0ms);
    CHECK(*parse_duration("500ms") == 500ms);
    CHECK(*parse_duration("2s") == 2s);
    CHECK(*parse_duration("90s") == 90s);
    CHECK(*parse_duration("1m30s") == 90s);
    CHECK(*parse_duration("1h30m") == 90min);
    CHECK(*parse_duration("1.5h") == 90min);
    CHECK(*parse_duration("0.25s") == 250ms);
    CHECK(*parse_duration("+3s") == 3s);
    CHECK(*parse_duration("1000us") == 1ms);
    CHECK(*parse_duration("2000000ns") == 2ms);
    CHECK(*parse_duration("1h1m1s1ms") == 1h + 1min + 1s + 1ms);
    CHECK(*parse_duration("2400h") == 100 * 24h);
}

TEST_CASE("durations: each rejection says why", "[config][duration]") {
    const auto error = [](const char* text) {
        auto d = parse_duration(text);
        REQUIRE_FALSE(d);
        return d.error();
    };
    CHECK(error("") == "empty duration (e.g. \"90s\", \"1m30s\", \"500ms\")");
    CHECK(error("90") == "missing unit in \"90\" (use ns, us, ms, s, m or h)");
    CHECK(error("10sec") == "unknown unit \"sec\" in \"10sec\" (use ns, us, ms, s, m or h)");
    CHECK(error("1d") == "unknown unit \"d\" in \"1d\" (use ns, us, ms, s, m or h)");
    CHECK(error("-5s") == "negative duration \"-5s\"");
    CHECK(error("s") == "expected a number at \"s\" in \"s\" (e.g. \"90s\", \"1m30s\")");
    CHECK(error("1h s") == "unknown unit \"h s\" in \"1h s\" (use ns, us, ms, s, m or h)");
    CHECK(error("+") == "no number in \"+\"");
    CHECK(error("1500us") == "duration \"1500us\" is not a whole number of milliseconds");
    CHECK(error("99999999999h") == "duration \"99999999999h\" is too large");
    CHECK(error(".s") == "expected a number at \".s\" in \".s\" (e.g. \"90s\", \"1m30s\")");
}

TEST_CASE("durations: schedule files and @every read the same grammar", "[config][duration][cron]") {
    // One tokenizer serves both (txflow/cron/detail/duration.hpp); only the
    // edges differ: @every takes no sign, no bare "0" and nothing under 1ms.
    for (const char* text : {"90s", "1h30m", "1.5h", "1.s", ".5s", "250ms", "1000us", "1000\xC2\xB5s", "1h0m0.5s",
                             "36h", "90", "10sec", "1d", "1h s", "s", ".s", "1500us", "1ns", "99999999999h"}) {
        INFO(text);
        const auto config = parse_duration(text);
        const auto every = txflow::cron::parse_spec(std::string("@every ") + text);
        REQUIRE(config.has_value() == every.has_value());
        if (config) CHECK(config->count() == every->every_ms);
    }
    CHECK(*parse_duration("0s") == 0ms);
    CHECK(txflow::cron::parse_spec("@every 0s").error().code == txflow::cron::ErrorCode::duration_not_positive);
    CHECK(*parse_duration("+3s") == 3s);
    CHECK(txflow::cron::parse_spec("@every +3s").error().code == txflow::cron::ErrorCode::bad_duration);
}

TEST_CASE("durations: format_duration is the shortest text and parses back", "[config][duration]") {
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_duration(250ms) == "250ms");
    CHECK(format_duration(90s) == "1m30s");
    CHECK(format_duration(1h) == "1h");
    CHECK(format_duration(1h + 1ms) == "1h1ms");
    for (const std::chrono::milliseconds d :
         std::initializer_list<std::chrono::milliseconds>{1ms, 999ms, 1s, 61s, 3601s, 90min, 49h + 1ms})
        CHECK(*parse_duration(format_duration(d)) == d);
}

TEST_CASE("closest_match suggests only likely typos", "[config]") {
    using txflow::schedule_file::closest_match;
    CHECK(closest_match("retires", {"timeout", "retry", "overlap", "breaker"}) == "retry");
    CHECK(closest_match("corn", {"cron", "every", "at"}) == "cron");
    CHECK(closest_match("Cron", {"cron", "every", "at"}) == "cron");
    CHECK(closest_match("job", {"version", "jobs", "sagas"}) == "jobs");
    CHECK(closest_match("banana", {"cron", "every", "at"}).empty());
    CHECK(closest_match("x", {"at"}).empty());
}

}  // namespace duration_test
