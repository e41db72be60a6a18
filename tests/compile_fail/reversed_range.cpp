// expect: Field::day_of_month.*ErrorCode::reversed_range
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "0 0 20-10 * *"_cron;
int main() { return schedule.seconds == 0 ? 1 : 0; }
