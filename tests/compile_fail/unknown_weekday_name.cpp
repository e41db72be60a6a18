// expect: Field::day_of_week.*ErrorCode::unknown_name
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "0 0 * * FOO"_cron;
int main() { return schedule.seconds == 0 ? 1 : 0; }
