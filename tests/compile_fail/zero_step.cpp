// expect: Field::minute.*ErrorCode::zero_step
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "*/0 * * * *"_cron;
int main() { return schedule.seconds == 0 ? 1 : 0; }
