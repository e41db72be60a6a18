// Smallest real use of an installed txflow: parse, ask for the next fire.
#include <chrono>
#include <iostream>

#include "txflow/cron/schedule.hpp"
#include "txflow/cron/zone.hpp"

int main() {
    using namespace std::chrono;
    auto schedule = txflow::cron::parse("*/5 * * * *");
    if (!schedule) {
        std::cerr << "parse failed: " << schedule.error().message() << '\n';
        return 1;
    }
    // 2026-01-01T00:02:00Z -> 2026-01-01T00:05:00Z
    const txflow::cron::Instant after = sys_days{year{2026} / January / 1} + 2min;
    const auto fire = schedule->next(after);
    if (!fire) {
        std::cerr << "no next fire\n";
        return 1;
    }
    std::cout << "next fire of \"*/5 * * * *\": " << txflow::cron::to_rfc3339(*fire, txflow::cron::Zone::utc()) << '\n';
    return *fire == after + 3min ? 0 : 1;
}
