// expect: Field::none.*ErrorCode::wrong_field_count
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "* * * *"_cron;
int main() { return schedule.seconds == 0 ? 1 : 0; }
