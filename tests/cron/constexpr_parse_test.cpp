// The parser runs during constant evaluation: the same code will back
// "..."_cron literals.
#include <catch2/catch.hpp>

#include "txflow/cron/parser.hpp"
#include "txflow/cron/schedule.hpp"

namespace {
using txflow::cron::ErrorCode;
using txflow::cron::Field;
using txflow::cron::Format;
using txflow::cron::parse_spec;

constexpr auto kEveryFive = parse_spec("0 */5 * * * *");
static_assert(kEveryFive.has_value());
static_assert(kEveryFive->minutes == 0x0084'2108'4210'8421ULL);
static_assert(kEveryFive->seconds == 1);
static_assert(!kEveryFive->wall_clock_fixed());

constexpr auto kBadHour = parse_spec("0 0 25 * * *");
static_assert(!kBadHour.has_value());
static_assert(kBadHour.error().code == ErrorCode::out_of_range);
static_assert(kBadHour.error().field == Field::hour);
static_assert(kBadHour.error().column == 5);

static_assert(parse_spec("CRON_TZ=Europe/Berlin 30 2 * * MON-FRI")->zone_name() == "Europe/Berlin");
static_assert(parse_spec("0 0 1 * *", Format::seconds).error().code == ErrorCode::wrong_field_count);
static_assert(parse_spec("@every 1h30m")->every_ms == 5'400'000);
}  // namespace

TEST_CASE("constexpr parse equals run-time parse", "[cron][constexpr]") {
    for (const char* text : {"0 */5 * * * *", "CRON_TZ=Europe/Berlin 30 2 * * MON-FRI", "0 0 12 LW * ?",
                             "0 15 10 ? * 6#3", "@weekly", "@every 250ms", "0 0 0 1 1 ? 2030-2035"}) {
        CAPTURE(text);
        auto run_time = txflow::cron::parse(text);
        REQUIRE(run_time.has_value());
        CHECK(run_time->spec() == parse_spec(text).value());
    }
    CHECK(kEveryFive.value() == txflow::cron::parse("0 */5 * * * *")->spec());
}
