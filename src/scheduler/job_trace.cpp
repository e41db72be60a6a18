// A job attempt's span: its ids and times, recorded raw (observe::JobSpan).

#include "scheduler/job_trace.hpp"

#include "scheduler/job_definition.hpp"
#include "txflow/observe/job_span.hpp"

#include <string>

namespace txflow {

void JobTrace::begin(JobContext& ctx, const observe::TraceContext* parent) {
    if (parent != nullptr) {
        context_ = parent->child();
        parent_span_ = parent->span_id;
    } else {
        context_ = observe::TraceContext::new_root();
    }
    current_.emplace(&*context_);
    detail::JobContextAccess::set_trace(ctx, &*context_);
}

// Raw fields only: the name and attributes are built off this thread (JobSpan::to_span).
void JobTrace::finish(const JobContext& ctx, Outcome outcome, std::string_view error,
                      std::chrono::steady_clock::duration duration) {
    current_.reset();
    observe::JobSpan span;
    span.context = *context_;  // a copy: end_run still reads ctx.trace()
    span.parent_span_id = parent_span_;
    span.start_unix_ns = start_ns_;
    span.end_unix_ns = start_ns_ + std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
    span.job = ctx.job_name();
    if (!error.empty()) span.error = error;
    span.run_number = ctx.run_number();
    span.attempt = ctx.attempt();
    span.outcome = outcome;
    tracer_->record_job(std::move(span));
}

}  // namespace txflow
