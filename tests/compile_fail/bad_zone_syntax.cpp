// expect: ErrorCode::bad_zone_name
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "CRON_TZ=Europe/Ber!in 0 0 * * *"_cron;
int main() { return schedule.seconds == 0 ? 1 : 0; }
