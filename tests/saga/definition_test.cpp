#include <catch2/catch.hpp>

#include <chrono>

#include "txflow/saga/saga.hpp"

namespace definition_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::SagaDefinitionError;
using txflow::saga::Definition;
using txflow::saga::Step;
using txflow::saga::StepContext;

namespace {

void noop(StepContext&) {}

Step make(std::string name, bool compensation = true) {
    Step s;
    s.name = std::move(name);
    s.action = noop;
    if (compensation) s.compensation = noop;
    else s.no_compensation = true;
    return s;
}

std::string error_of(std::vector<Step> steps, std::string name = "transfer") {
    auto def = Definition::create(name, std::move(steps));
    REQUIRE_FALSE(def);
    return def.error().to_string(name);
}

}  // namespace

TEST_CASE("build() names the step that breaks a rule", "[saga][definition]") {
    CHECK_THROWS_WITH(Saga("transfer").step("debit", noop, noop).step("debit", noop, noop).build(),
                      "saga 'transfer', step 'debit': the step name is used twice");
    CHECK_THROWS_WITH(Saga("transfer").step("debit", noop, noop).timeout(0ms).build(),
                      "saga 'transfer', step 'debit': the timeout must be positive");
    CHECK_THROWS_WITH(Saga("transfer").timeout(1s),
                      "saga 'transfer': timeout() before any step: it applies to the "
                      "last step added");
    CHECK_THROWS_AS(Saga("").step("a", noop, noop).build(), SagaDefinitionError);
}

TEST_CASE("Definition::create checks what the typestate builder cannot", "[saga][definition]") {
    CHECK(error_of({}) == "saga 'transfer': the saga has no steps");
    CHECK(error_of({make("a")}, "") == "saga '': the saga has no name");
    CHECK(error_of({make("a"), make("")}) == "saga 'transfer', step '#2': the step has no name");

    auto missing = make("credit");
    missing.compensation = nullptr;
    CHECK(error_of({make("debit"), missing}) ==
          "saga 'transfer', step 'credit': the step has no compensation: give one, or say no_compensation()");

    auto both = make("credit");
    both.no_compensation = true;
    CHECK(error_of({both}) == "saga 'transfer', step 'credit': the step has a compensation and no_compensation()");

    auto no_action = make("credit");
    no_action.action = nullptr;
    CHECK(error_of({no_action}) == "saga 'transfer', step 'credit': the step has no action");

    auto a = make("a"), b = make("b"), c = make("c");
    a.group = 1;
    c.group = 1;
    CHECK(error_of({a, b, c}) == "saga 'transfer', step 'c': parallel group 1 is split: its steps must be adjacent");

    auto policy = make("n", false);
    policy.compensation_retry = txflow::retry::fixed(1ms);
    CHECK(error_of({policy}) == "saga 'transfer', step 'n': compensation policies on a step with no_compensation()");
}

TEST_CASE("the builder keeps steps, policies and groups in order", "[saga][definition]") {
    auto def = Saga("t")
                   .step("a", noop, noop)
                   .timeout(2s)
                   .retry(txflow::retry::fixed(100ms).attempts(3))
                   .step("b", noop)
                   .no_compensation()
                   .parallel(txflow::step("c", noop, noop).timeout(1s), txflow::step("d", noop).no_compensation())
                   .on_recovery(txflow::saga::Recovery::compensate)
                   .build();
    REQUIRE(def->steps().size() == 4);
    CHECK(def->steps()[0].timeout == 2s);
    CHECK(def->steps()[0].retry->max_attempts() == 3);
    CHECK(def->steps()[1].no_compensation);
    CHECK(def->steps()[2].group == 1);
    CHECK(def->steps()[3].group == 1);
    CHECK(def->steps()[2].timeout == 1s);
    CHECK(def->steps()[0].group == 0);
    CHECK(def->options().on_recovery == txflow::saga::Recovery::compensate);
    CHECK(def->find_step("c") == 2u);
    CHECK_FALSE(def->find_step("z"));
}

TEST_CASE("warnings(): a step after a pivot without a retry policy", "[saga][definition][pivot]") {
    auto warnings_of = [](std::vector<Step> steps) {
        auto def = Definition::create("order", std::move(steps));
        REQUIRE(def);
        std::vector<std::string> out;
        for (const auto& w : (*def)->warnings()) out.push_back(w.to_string("order"));
        return out;
    };
    CHECK(warnings_of({make("debit"), make("ship", false), make("email")}) ==
          std::vector<std::string>{"saga 'order', step 'email': follows step 'ship', which cannot be undone "
                                   "(no_compensation), and has no retry policy: if it fails, the saga is not "
                                   "compensated past 'ship' and waits for an operator"});
    Step retried = make("email");
    retried.retry = txflow::retry::fixed(1s).attempts(10);
    CHECK(warnings_of({make("debit"), make("ship", false), std::move(retried)}).empty());
    // Nothing to undo before it (a lookup, say) or nothing after it: no pivot to worry about.
    CHECK(warnings_of({make("lookup", false), make("reserve"), make("charge")}).empty());
    CHECK(warnings_of({make("debit"), make("credit"), make("notify", false)}).empty());
}

}  // namespace definition_test
