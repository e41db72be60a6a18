#pragma once
/// @file
/// Catch2 v2 support for the test kit: wall times print as UTC text, and
/// matchers whose failures say what was expected in the test's own terms.
///
///     CHECK_THAT(fires_of("report"), FiresAt({"2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z"}));
///     CHECK_THAT(script, Ran({"reserve", "charge!", "~reserve"}));
///     CHECK_THAT(run_saga(order), Compensated());
///     CHECK_THAT(script, Compensated({"charge", "reserve"}));

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "txflow/testing.hpp"

namespace Catch {

template <>
struct StringMaker<txflow::WallTime> {
    static std::string convert(const txflow::WallTime& t) { return txflow::testing::utc_text(t); }
};

template <>
struct StringMaker<txflow::testing::SagaScript> {
    static std::string convert(const txflow::testing::SagaScript& s) {
        return "script that ran " + StringMaker<std::vector<std::string>>::convert(s.calls());
    }
};

template <>
struct StringMaker<txflow::saga::Info> {
    static std::string convert(const txflow::saga::Info& info) {
        std::string out = "saga " + info.id + " " + std::string(txflow::saga::to_string(info.state));
        if (!info.error.empty()) out += " (" + info.error + ")";
        return out;
    }
};

}  // namespace Catch

namespace txflow::testing {

/// The scheduled instants, exactly these and in this order (RFC 3339 text, read with wall_time()).
class FiresAtMatcher final : public Catch::MatcherBase<std::vector<WallTime>> {
public:
    /// Expects these instants, RFC 3339 text read with wall_time().
    explicit FiresAtMatcher(const std::vector<std::string>& expected) {
        for (const auto& t : expected) expected_.push_back(wall_time(t));
    }
    /// True when `fires` are exactly the expected instants, in order.
    bool match(const std::vector<WallTime>& fires) const override { return fires == expected_; }
    /// "fires at [...]", in UTC, for the failure message.
    std::string describe() const override {
        std::vector<std::string> utc;
        for (const auto t : expected_) utc.push_back(utc_text(t));
        return "fires at " + Catch::StringMaker<std::vector<std::string>>::convert(utc);
    }

private:
    std::vector<WallTime> expected_;
};

/// Matches a list of fires against instants given as text: `CHECK_THAT(f.fires_of("job"), FiresAt({...}))`.
inline FiresAtMatcher FiresAt(const std::vector<std::string>& expected) {
    return FiresAtMatcher(expected);
}

/// One of a SagaScript's lists, exactly these entries and in this order.
class ScriptListMatcher final : public Catch::MatcherBase<SagaScript> {
public:
    /// Which of the SagaScript's lists to read.
    using List = std::vector<std::string> (SagaScript::*)() const;
    /// Expects `list` of the script to be exactly `expected`; `verb` names it in messages.
    ScriptListMatcher(List list, std::string verb, std::vector<std::string> expected)
        : list_(list), verb_(std::move(verb)), expected_(std::move(expected)) {}
    /// True when the list is exactly the expected entries, in order.
    bool match(const SagaScript& script) const override { return (script.*list_)() == expected_; }
    /// "<verb> [...]", for the failure message.
    std::string describe() const override {
        return verb_ + " " + Catch::StringMaker<std::vector<std::string>>::convert(expected_);
    }

private:
    List list_;
    std::string verb_;
    std::vector<std::string> expected_;
};

/// The script's calls: "step", "step!" (failed), "~step" (its compensation).
inline ScriptListMatcher Ran(std::vector<std::string> calls) {
    return {&SagaScript::calls, "ran", std::move(calls)};
}
/// The steps whose compensation completed: Compensated({"charge", "reserve"}).
inline ScriptListMatcher Compensated(std::vector<std::string> steps) {
    return {&SagaScript::compensated, "compensated", std::move(steps)};
}

/// A saga in a given end state.
class SagaStateMatcher final : public Catch::MatcherBase<saga::Info> {
public:
    /// Expects the saga to be in `state`.
    explicit SagaStateMatcher(saga::State state) : state_(state) {}
    /// True when the saga is in the expected state.
    bool match(const saga::Info& info) const override { return info.state == state_; }
    /// "is <state>", for the failure message.
    std::string describe() const override { return "is " + std::string(saga::to_string(state_)); }

private:
    saga::State state_;
};

/// The saga succeeded.
inline SagaStateMatcher Succeeded() {
    return SagaStateMatcher(saga::State::succeeded);
}
/// The saga was compensated.
inline SagaStateMatcher Compensated() {
    return SagaStateMatcher(saga::State::compensated);
}
/// The saga is parked in compensation_failed.
inline SagaStateMatcher CompensationFailed() {
    return SagaStateMatcher(saga::State::compensation_failed);
}

}  // namespace txflow::testing
