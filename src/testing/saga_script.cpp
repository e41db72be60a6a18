// Scripted saga steps: a call log and failures on cue.

#include "txflow/testing/saga_script.hpp"

#include <stdexcept>

namespace txflow::testing {

SagaScript& SagaScript::fail_step(std::string_view name, int times) {
    const std::lock_guard lock(mutex_);
    failures_[std::string(name)] = times;
    return *this;
}

SagaScript& SagaScript::fail_compensation(std::string_view name, int times) {
    const std::lock_guard lock(mutex_);
    failures_["~" + std::string(name)] = times;
    return *this;
}

saga::StepFunction SagaScript::action(std::string name, saga::StepFunction body) {
    return make(std::move(name), std::move(body));
}

saga::StepFunction SagaScript::compensation(std::string name, saga::StepFunction body) {
    return make("~" + std::move(name), std::move(body));
}

saga::StepFunction SagaScript::make(std::string key, saga::StepFunction body) {
    return [this, key = std::move(key), body = std::move(body)](saga::StepContext& ctx) {
        bool fail = false;
        {
            const std::lock_guard lock(mutex_);
            auto it = failures_.find(key);
            if (it != failures_.end() && it->second > 0) {
                if (it->second != kAlways) --it->second;
                fail = true;
                calls_.push_back(key + "!");
            }
        }
        if (fail) throw std::runtime_error("SagaScript: " + key + " fails on cue");
        try {
            if (body) body(ctx);
        } catch (...) {
            const std::lock_guard lock(mutex_);
            calls_.push_back(key + "!");
            throw;
        }
        const std::lock_guard lock(mutex_);
        calls_.push_back(key);
    };
}

std::vector<std::string> SagaScript::calls() const {
    const std::lock_guard lock(mutex_);
    return calls_;
}

std::vector<std::string> SagaScript::completed() const {
    std::vector<std::string> out;
    for (auto& c : calls())
        if (c.front() != '~' && c.back() != '!') out.push_back(c);
    return out;
}

std::vector<std::string> SagaScript::compensated() const {
    std::vector<std::string> out;
    for (auto& c : calls())
        if (c.front() == '~' && c.back() != '!') out.push_back(c.substr(1));
    return out;
}

}  // namespace txflow::testing
