#pragma once
// The service under test: a month-end report posted on the last weekday of
// each month, and a refund saga. The outside world (where reports go, the
// payment provider) comes in through interfaces, so tests pass fakes.

#include <string>

#include <txflow/txflow.hpp>

namespace acme {

class Outbox {
public:
    virtual ~Outbox() = default;
    virtual void post(const std::string& message) = 0;
};

class Payments {
public:
    virtual ~Payments() = default;
    virtual void hold_order(const std::string& order) = 0;
    virtual void release_order(const std::string& order) = 0;
    virtual void refund(const std::string& order, long cents) = 0;
    virtual void charge_back(const std::string& order, long cents) = 0;  // undoes refund
    virtual void email(const std::string& order) = 0;
};

// Job "month-end-report": 17:00 Berlin time on the last weekday of the month.
void add_month_end_report(txflow::Scheduler& scheduler, Outbox& outbox);

// Saga "refund" (input: {"order": "...", "cents": n}): hold the order, refund
// the card, email the customer; a failure undoes what was done, in reverse.
txflow::SagaRef refund_saga(Payments& payments);

}  // namespace acme
