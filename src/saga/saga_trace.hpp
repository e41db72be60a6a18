#pragma once
// A saga's spans (SchedulerOptions::tracer): the saga's own span, begun when
// it is created (continuing a given traceparent) and recorded in a
// saga_trace record, so a recovered saga continues the same trace; each step
// attempt and compensation attempt is a child span of it.

#include <optional>
#include <string_view>

#include "saga/instance.hpp"
#include "store/live_state.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow::saga {

// Gives a new instance its span: a child of parent, or a new trace when
// tracing is on. Nothing when both are absent.
void begin_trace(Instance& in, observe::Tracer* tracer, const observe::TraceContext* parent);
// The record that makes in's span durable (none when it has no span).
[[nodiscard]] std::optional<store::SagaTrace> trace_record(const Instance& in);
// The span of a recovered saga, from its saga_trace record; false when the record is unreadable.
bool recover_trace(Instance& in, const store::LiveSaga& s);
// The saga reached `to`: a state it rests in ends its span (once).
void end_saga_span(observe::Tracer* tracer, Instance& in, State to, WallTime now);

// One step attempt's span, as JobTrace is a job attempt's.
class StepTrace {
public:
    StepTrace(observe::Tracer* tracer, const Instance& in) : tracer_(tracer != nullptr && in.trace ? tracer : nullptr) {
        if (tracer_ != nullptr) begin(*in.trace);
    }
    // The context a StepContext shows (null: not traced).
    [[nodiscard]] const observe::TraceContext* context() const { return context_ ? &*context_ : nullptr; }
    void end(const Instance& in, std::string_view step, std::uint32_t attempt, bool compensation,
             std::string_view error) {
        if (tracer_ != nullptr) finish(in, step, attempt, compensation, error);
    }

private:
    void begin(const observe::TraceContext& saga);
    void finish(const Instance& in, std::string_view step, std::uint32_t attempt, bool compensation,
                std::string_view error);

    observe::Tracer* tracer_;
    std::optional<observe::TraceContext> context_;
    std::optional<observe::ScopedTrace> current_;
    std::int64_t start_ns_ = 0;
};

}  // namespace txflow::saga
