#pragma once
/// @file
/// Scripted saga steps for tests: each action and compensation made here
/// records its call and fails on cue, so a test says "charge fails" or "the
/// refund fails twice" and then asserts the order of what ran.
///
///     txflow::testing::SagaScript script;
///     script.fail_step("charge");
///     auto order = txflow::Saga("order")
///         .step("reserve", script.action("reserve"), script.compensation("reserve"))
///         .step("charge", script.action("charge"), script.compensation("charge"))
///         .build();
///     ... run it ...
///     script.calls() == {"reserve", "charge!", "~reserve"}

#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/saga/saga.hpp"

namespace txflow::testing {

/// Scripted saga steps for tests: which steps and compensations fail, and what ran (see the file's notes).
class TXFLOW_EXPORT SagaScript {
public:
    /// `times` value for "fails on every attempt".
    static constexpr int kAlways = std::numeric_limits<int>::max();

    /// The action of step `name` fails its next `times` attempts.
    SagaScript& fail_step(std::string_view name, int times = kAlways);
    /// The compensation of step `name` fails its next `times` attempts.
    SagaScript& fail_compensation(std::string_view name, int times = kAlways);

    /// An action that records "name" (or "name!" when it fails on cue), then
    /// calls `body` if given. The script must outlive the saga's runs.
    [[nodiscard]] saga::StepFunction action(std::string name, saga::StepFunction body = {});
    /// A compensation that records "~name" (or "~name!"), then calls `body`.
    [[nodiscard]] saga::StepFunction compensation(std::string name, saga::StepFunction body = {});

    /// Every call in the order made: "reserve", "charge!", "~reserve".
    [[nodiscard]] std::vector<std::string> calls() const;
    /// The actions that completed, in order.
    [[nodiscard]] std::vector<std::string> completed() const;
    /// The steps whose compensation completed, in the order compensated.
    [[nodiscard]] std::vector<std::string> compensated() const;

private:
    saga::StepFunction make(std::string key, saga::StepFunction body);  // key: "name" or "~name"

    mutable std::mutex mutex_;
    std::map<std::string, int, std::less<>> failures_;  // "name" or "~name" -> failures left
    std::vector<std::string> calls_;
};

}  // namespace txflow::testing
