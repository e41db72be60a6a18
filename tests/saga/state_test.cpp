#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>

#include "txflow/saga/state.hpp"

namespace state_test {

using txflow::saga::is_legal;
using txflow::saga::kStateCount;
using txflow::saga::Machine;
using txflow::saga::State;

namespace {

State parse(const std::string& name) {
    State s{};
    REQUIRE(txflow::saga::parse_state(name, s));
    return s;
}

// The legal transitions, written out again by hand (not derived from the
// header's tables), so that a change to a table must be made twice.
const std::set<std::pair<std::string, std::string>> kSagaLegal = {
    {"pending", "running"},
    {"running", "succeeded"},
    {"running", "failed"},
    {"failed", "compensating"},
    {"compensating", "compensated"},
    {"compensating", "compensation_failed"},
    {"compensation_failed", "compensating"},
    {"compensation_failed", "compensated"},
};
const std::set<std::pair<std::string, std::string>> kStepLegal = {
    {"pending", "running"},
    {"running", "succeeded"},
    {"running", "failed"},
    {"running", "compensating"},
    {"succeeded", "compensating"},
    {"compensating", "compensated"},
    {"compensating", "compensation_failed"},
    {"compensation_failed", "compensating"},
    {"compensation_failed", "compensated"},
};

}  // namespace

TEST_CASE("saga states have distinct names that parse back", "[saga][state]") {
    std::set<std::string> names;
    for (std::size_t i = 0; i < kStateCount; ++i) {
        const auto s = static_cast<State>(i);
        const std::string name(txflow::saga::to_string(s));
        CHECK(names.insert(name).second);
        CHECK(parse(name) == s);
    }
    State out{};
    CHECK_FALSE(txflow::saga::parse_state("done", out));
}

TEST_CASE("every pair of states: legal exactly when the table lists it", "[saga][state]") {
    for (const auto machine : {Machine::saga, Machine::step}) {
        const auto& expected = machine == Machine::saga ? kSagaLegal : kStepLegal;
        std::size_t legal = 0;
        for (std::size_t f = 0; f < kStateCount; ++f) {
            for (std::size_t t = 0; t < kStateCount; ++t) {
                const auto from = static_cast<State>(f);
                const auto to = static_cast<State>(t);
                const bool want = expected.count({std::string(txflow::saga::to_string(from)),
                                                  std::string(txflow::saga::to_string(to))}) != 0;
                INFO((machine == Machine::saga ? "saga " : "step ")
                     << txflow::saga::to_string(from) << " -> " << txflow::saga::to_string(to));
                CHECK(is_legal(machine, from, to) == want);

                State state = from;
                CHECK(txflow::saga::transition(machine, state, to) == want);
                CHECK(state == (want ? to : from));  // a refused transition leaves the state alone
                legal += want ? 1 : 0;
            }
        }
        CHECK(legal == expected.size());
    }
}

TEST_CASE("terminal states have no way out; every other state has one", "[saga][state]") {
    for (std::size_t f = 0; f < kStateCount; ++f) {
        const auto from = static_cast<State>(f);
        bool any = false;
        for (std::size_t t = 0; t < kStateCount; ++t) any = any || is_legal(Machine::saga, from, static_cast<State>(t));
        INFO(txflow::saga::to_string(from));
        CHECK(any == !txflow::saga::is_terminal(from));
    }
}

static_assert(is_legal(Machine::saga, State::pending, State::running), "the tables are usable at compile time");
static_assert(!is_legal(Machine::saga, State::succeeded, State::compensating));

}  // namespace state_test
