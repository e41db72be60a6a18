// expect: Field::hour.*ErrorCode::out_of_range.*5.*25
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "0 0 25 * * *"_cron;
int main() { return schedule.seconds == 0 ? 1 : 0; }
