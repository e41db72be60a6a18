// expect: ErrorCode::zone_prefix_case
#include "txflow/cron/literal.hpp"
using namespace txflow::literals;
constexpr auto schedule = "cron_tz=UTC 0 0 * * *"_cron;
int main() {
    return schedule.seconds == 0 ? 1 : 0;
}
