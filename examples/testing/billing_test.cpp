// The billing service's scheduling, tested on txflow's test kit: a manual
// clock that skips from fire to fire, so three months take milliseconds.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <txflow/testing.hpp>
#include <txflow/testing/catch2.hpp>

#include "billing.hpp"

using txflow::testing::Compensated;
using txflow::testing::FiresAt;
using txflow::testing::SchedulerFixture;
using txflow::testing::Succeeded;

namespace {

// Fakes for the outside world. Tests read them after advance() or
// run_saga(), which return once every run has ended.
struct FakeOutbox final : acme::Outbox {
    std::vector<std::string> posted;
    void post(const std::string& message) override { posted.push_back(message); }
};

struct FakePayments final : acme::Payments {
    bool decline_refunds = false;
    std::vector<std::string> calls;
    void hold_order(const std::string& order) override { calls.push_back("hold " + order); }
    void release_order(const std::string& order) override { calls.push_back("release " + order); }
    void refund(const std::string& order, long cents) override {
        if (decline_refunds) throw std::runtime_error("card declined");
        calls.push_back("refund " + order + " " + std::to_string(cents));
    }
    void charge_back(const std::string& order, long cents) override {
        calls.push_back("charge back " + order + " " + std::to_string(cents));
    }
    void email(const std::string& order) override { calls.push_back("email " + order); }
};

// The fakes come first among the bases, so they outlive the scheduler.
struct Fakes {
    FakeOutbox outbox;
    FakePayments payments;
};

struct Billing : Fakes, SchedulerFixture {
    Billing() : SchedulerFixture({.start = "2026-01-01T00:00:00", .zone = "Europe/Berlin"}) {
        setup([this](txflow::Scheduler& s) { acme::add_month_end_report(s, outbox); });
    }
};

}  // namespace

TEST_CASE_METHOD(Billing, "the month-end report goes out at 17:00 Berlin time on the last weekday") {
    advance_to("2026-04-01T00:00:00", "Europe/Berlin");
    // Jan 31 and Feb 28 are Saturdays: Friday instead. March 31 is a Tuesday, in summer time.
    CHECK_THAT(fires_of("month-end-report"),
               FiresAt({"2026-01-30T17:00:00+01:00", "2026-02-27T17:00:00+01:00", "2026-03-31T17:00:00+02:00"}));
    CHECK(outbox.posted ==
          std::vector<std::string>{"month-end report 2026-1", "month-end report 2026-2", "month-end report 2026-3"});
    CHECK(last_outcome("month-end-report") == txflow::Outcome::succeeded);
}

TEST_CASE_METHOD(Billing, "nothing is posted before the last weekday") {
    advance_to("2026-01-30T16:59:59", "Europe/Berlin");
    CHECK(fired("month-end-report") == 0);
    advance(std::chrono::seconds{1});
    CHECK(outbox.posted == std::vector<std::string>{"month-end report 2026-1"});
}

TEST_CASE_METHOD(Billing, "a refund holds the order, refunds the card and emails the customer") {
    const auto info = run_saga(acme::refund_saga(payments), {{"order", "o-7"}, {"cents", 1250}});
    CHECK_THAT(info, Succeeded());
    CHECK(payments.calls == std::vector<std::string>{"hold o-7", "refund o-7 1250", "email o-7"});
}

TEST_CASE_METHOD(Billing, "a declined refund releases the order and emails nobody") {
    payments.decline_refunds = true;
    const auto info = run_saga(acme::refund_saga(payments), {{"order", "o-8"}, {"cents", 300}});
    CHECK_THAT(info, Compensated());
    CHECK(info.error.find("card declined") != std::string::npos);
    CHECK(payments.calls == std::vector<std::string>{"hold o-8", "release o-8"});
}
