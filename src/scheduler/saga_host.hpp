#pragma once
// The saga engine's view of the scheduler.

#include "saga/engine.hpp"
#include "txflow/scheduler.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace txflow {

class SagaHost final : public saga::EngineHost {
public:
    explicit SagaHost(Scheduler::Impl& impl) : impl_(impl) {}
    Clock& clock() override;
    spdlog::logger& log() override;
    bool submit(Priority priority, std::string_view queue, std::function<void()> fn) override;
    std::uint64_t call_at(SteadyTime due, std::function<void()> fn) override;
    void cancel_call(std::uint64_t id) override;
    bool has_listeners() const override;
    void emit(const Event& event) override;
    std::uint64_t seed() override;
    observe::Tracer* tracer() override;
    std::size_t recovery_concurrency() override;

private:
    void done();
    Scheduler::Impl& impl_;
};

}  // namespace txflow
