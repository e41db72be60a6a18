#pragma once
// A job attempt's span (SchedulerOptions::tracer): begun before the job is
// called, made the thread's current trace while it runs, handed to the
// tracer when the attempt ends. Without a tracer it is one null check.

#include <chrono>
#include <optional>
#include <string_view>

#include "txflow/job.hpp"
#include "txflow/observe/events.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow {

class JobTrace {
public:
    // parent: the span this attempt is a child of (a given traceparent, or the run's first
    // attempt); null: the attempt starts a new trace.
    JobTrace(observe::Tracer* tracer, JobContext& ctx, const observe::TraceContext* parent) : tracer_(tracer) {
        if (tracer_ != nullptr) begin(ctx, parent);
    }
    JobTrace(const JobTrace&) = delete;
    JobTrace& operator=(const JobTrace&) = delete;
    ~JobTrace() = default;

    // Right before the job is called: the span's start (the wall clock, read once).
    void start_now() {
        if (tracer_ != nullptr) start_ns_ = observe::Span::now_unix_ns();
    }
    // The span ends `duration` (the call's, on the steady clock) after its start: no second read.
    void end(const JobContext& ctx, Outcome outcome, std::string_view error,
             std::chrono::steady_clock::duration duration) {
        if (tracer_ != nullptr) finish(ctx, outcome, error, duration);
    }

private:
    void begin(JobContext& ctx, const observe::TraceContext* parent);
    void finish(const JobContext& ctx, Outcome outcome, std::string_view error,
                std::chrono::steady_clock::duration duration);

    observe::Tracer* tracer_;
    std::optional<observe::TraceContext> context_;
    std::optional<observe::ScopedTrace> current_;
    observe::SpanId parent_span_{};
    std::int64_t start_ns_ = 0;
};

}  // namespace txflow
