// describe(): exact English for a spread of expressions. The wording is part
// of the CLI's output (`txflow cron explain`), so changes show up here.
#include <catch2/catch.hpp>

#include <string>

#include "txflow/cron/schedule.hpp"

namespace describe_test {

namespace {

using txflow::cron::describe;
using txflow::cron::parse;
using txflow::cron::Zone;

std::string english(const char* expression) {
    auto s = parse(expression);
    REQUIRE(s.has_value());
    return describe(*s);
}

}  // namespace

TEST_CASE("describe: times of day", "[cron][describe]") {
    CHECK(english("* * * * *") == "Every minute");
    CHECK(english("*/15 * * * *") == "Every 15 minutes");
    CHECK(english("5/15 * * * *") == "Every 15 minutes, starting at minute 5");
    CHECK(english("0-30/10 * * * *") == "Every 10 minutes from 0 through 30");
    CHECK(english("*/45 * * * *") == "At minutes 0 and 45");  // not "every 45 minutes": 00:45 -> 01:00
    CHECK(english("0 * * * *") == "Every hour");
    CHECK(english("5 * * * *") == "At minute 5 of every hour");
    CHECK(english("30 2 * * *") == "At 02:30");
    CHECK(english("0 30 2 * * *") == "At 02:30");
    CHECK(english("15 30 2 * * *") == "At 02:30:15");
    CHECK(english("0 9-17 * * *") == "Every hour from 09:00 through 17:00");
    CHECK(english("0 */2 * * *") == "Every 2 hours");
    CHECK(english("30 1/2 * * *") == "Every 2 hours, starting at 01:30");
    CHECK(english("0 8-18/2 * * *") == "Every 2 hours from 08:00 through 18:00");
    CHECK(english("0,30 9 * * *") == "At 09:00 and 09:30");
    CHECK(english("0 9,12,18 * * *") == "At 09:00, 12:00 and 18:00");
    CHECK(english("* 9 * * *") == "Every minute, between 09:00 and 09:59");
    CHECK(english("*/15 */2 * * *") == "Every 15 minutes, during every 2nd hour");
    CHECK(english("1-3,10 * * * *") == "At minutes 1 through 3 and 10");
}

TEST_CASE("describe: seconds", "[cron][describe]") {
    CHECK(english("* * * * * *") == "Every second");
    CHECK(english("*/10 * * * * *") == "Every 10 seconds");
    CHECK(english("30 * * * * *") == "At second 30 of every minute");
    CHECK(english("0-10 * * * * *") == "Every second from 0 through 10");
    CHECK(english("*/10 5 * * * *") == "Every 10 seconds, at minute 5");
}

TEST_CASE("describe: days of the week, month and year", "[cron][describe]") {
    CHECK(english("0 30 2 * * MON-FRI") == "At 02:30, Monday through Friday");
    CHECK(english("*/5 9-17 * * 1-5") == "Every 5 minutes, between 09:00 and 17:59, Monday through Friday");
    CHECK(english("0 0 * * 1,3,5") == "At 00:00, on Monday, Wednesday and Friday");
    CHECK(english("0 0 * * 6,0") == "At 00:00, on Saturday and Sunday");  // the weekend wraps the week
    CHECK(english("0 0 * * SUN-THU") == "At 00:00, Sunday through Thursday");
    CHECK(english("0 0 1,15 * *") == "At 00:00, on days 1 and 15 of the month");
    CHECK(english("0 0 */2 * *") == "At 00:00, on every 2nd day of the month");
    CHECK(english("0 0 * 1,7 *") == "At 00:00, in January and July");
    CHECK(english("0 0 * NOV-DEC,JAN-FEB *") == "At 00:00, in November through February");
    CHECK(english("0 0 0 1 1 ? 2026-2028") == "At 00:00, on January 1, in 2026 through 2028");
    CHECK(english("0 0 0 1 1 ? 2026/2") == "At 00:00, on January 1, every 2nd year from 2026 through 2098");
}

TEST_CASE("describe: Vixie either/or when both day fields are restricted", "[cron][describe]") {
    CHECK(english("0 0 1 * 1") == "At 00:00, on day 1 of the month or on Monday");
    CHECK(english("0 0 1,15 * MON-FRI") == "At 00:00, on days 1 and 15 of the month or on Monday through Friday");
    // A field naming every day makes the pair every day.
    CHECK(english("0 0 1 * 0-6") == "At 00:00");
    CHECK(english("0 0 1-31 * 1") == "At 00:00");
}

TEST_CASE("describe: Quartz day extras", "[cron][describe]") {
    CHECK(english("0 0 0 L * ?") == "At 00:00, on the last day of the month");
    CHECK(english("0 0 12 L-3 * ?") == "At 12:00, on the 3rd day before the last day of the month");
    CHECK(english("0 0 12 LW * ?") == "At 12:00, on the last weekday of the month");
    CHECK(english("0 0 12 15W * ?") == "At 12:00, on the weekday nearest day 15 of the month");
    CHECK(english("0 0 12 ? * 5#3") == "At 12:00, on the third Friday of the month");
    CHECK(english("0 0 12 ? * 2#1,2#3") == "At 12:00, on the first and third Tuesday of the month");
    CHECK(english("0 15 10 ? * 6L 2026-2030") == "At 10:15, on the last Saturday of the month, in 2026 through 2030");
    CHECK(english("0 0 0 1,L * ?") == "At 00:00, on day 1 and the last day of the month");
}

TEST_CASE("describe: descriptors and @every", "[cron][describe]") {
    CHECK(english("@yearly") == "At 00:00, on January 1");
    CHECK(english("@monthly") == "At 00:00, on day 1 of the month");
    CHECK(english("@weekly") == "At 00:00, on Sunday");
    CHECK(english("@daily") == "At 00:00");
    CHECK(english("@hourly") == "Every hour");
    CHECK(english("@every 90s") == "Every 90 seconds");
    CHECK(english("@every 1h30m") == "Every 90 minutes");
    CHECK(english("@every 1h") == "Every hour");
    CHECK(english("@every 250ms") == "Every 250 milliseconds");
}

TEST_CASE("describe: the zone", "[cron][describe]") {
    CHECK(english("CRON_TZ=Europe/Berlin 0 30 2 * * MON-FRI") ==
          "At 02:30, Monday through Friday (Europe/Berlin time)");
    const Zone* ny = Zone::find("America/New_York");
    REQUIRE(ny != nullptr);
    auto s = parse("0 9 * * *");
    REQUIRE(s.has_value());
    CHECK(describe(s->in_zone(*ny)) == "At 09:00 (America/New_York time)");
    CHECK(describe(*s) == "At 09:00");  // UTC goes unsaid
    // The prefix beats the zone the schedule is moved to.
    auto berlin = parse("CRON_TZ=Europe/Berlin 0 9 * * *");
    REQUIRE(berlin.has_value());
    CHECK(describe(berlin->in_zone(*ny)) == "At 09:00 (Europe/Berlin time)");
}

TEST_CASE("describe: equal schedules read alike", "[cron][describe]") {
    CHECK(english("*/30 * * * *") == english("0,30 * * * *"));
    CHECK(english("0 0 * * 7") == english("0 0 * * SUN"));
    auto s = parse("0 15 10 ? * 6L 2026-2030");
    REQUIRE(s.has_value());
    auto again = parse(s->to_string());
    REQUIRE(again.has_value());
    CHECK(describe(*again) == describe(*s));
}

}  // namespace describe_test
