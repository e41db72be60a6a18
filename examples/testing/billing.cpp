#include "billing.hpp"

namespace acme {

void add_month_end_report(txflow::Scheduler& scheduler, Outbox& outbox) {
    scheduler.job("month-end-report")
        .cron("0 0 17 LW * ?")  // LW: the last weekday (Mon-Fri) of the month
        .in_zone("Europe/Berlin")
        .run([&outbox](txflow::JobContext& ctx) {
            const auto day = std::chrono::floor<std::chrono::days>(ctx.scheduled_time());
            const std::chrono::year_month_day ymd{day};
            outbox.post("month-end report " + std::to_string(static_cast<int>(ymd.year())) + "-" +
                        std::to_string(static_cast<unsigned>(ymd.month())));
        });
}

txflow::SagaRef refund_saga(Payments& payments) {
    using txflow::saga::StepContext;
    const auto order = [](const StepContext& ctx) { return ctx.data().at("order").get<std::string>(); };
    const auto cents = [](const StepContext& ctx) { return ctx.data().at("cents").get<long>(); };
    return txflow::Saga("refund")
        .step(
            "hold", [&payments, order](StepContext& ctx) { payments.hold_order(order(ctx)); },
            [&payments, order](StepContext& ctx) { payments.release_order(order(ctx)); })
        .step(
            "refund", [&payments, order, cents](StepContext& ctx) { payments.refund(order(ctx), cents(ctx)); },
            [&payments, order, cents](StepContext& ctx) { payments.charge_back(order(ctx), cents(ctx)); })
        .step("email", [&payments, order](StepContext& ctx) { payments.email(order(ctx)); })
        .no_compensation()
        .build();
}

}  // namespace acme
