// A job attempt's span: its name, ids and attributes (OpenTelemetry's
// messaging conventions where they fit, txflow.* for the rest).

#include "scheduler/job_trace.hpp"

#include "scheduler/job_definition.hpp"

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
    start_ns_ = observe::Span::now_unix_ns();
}

void JobTrace::finish(const JobContext& ctx, Outcome outcome, std::string_view error) {
    current_.reset();
    observe::Span span;
    span.name = "job " + std::string(ctx.job_name());
    span.context = *context_;
    span.parent_span_id = parent_span_;
    span.kind = observe::Span::Kind::consumer;
    span.start_unix_ns = start_ns_;
    span.end_unix_ns = observe::Span::now_unix_ns();
    const bool failed = outcome == Outcome::failed || outcome == Outcome::timed_out;
    span.status = failed ? observe::Span::Status::error : observe::Span::Status::ok;
    if (failed) span.status_message = std::string(error);
    span.attributes = {
        {"messaging.system", std::string("txflow")},
        {"messaging.operation", std::string("process")},
        {"txflow.job.name", std::string(ctx.job_name())},
        {"txflow.attempt", static_cast<std::int64_t>(ctx.attempt())},
        {"txflow.run_number", static_cast<std::int64_t>(ctx.run_number())},
        {"txflow.outcome", std::string(to_string(outcome))},
    };
    if (!error.empty()) span.attributes.push_back({"txflow.error", std::string(error)});
    tracer_->record(std::move(span));
}

}  // namespace txflow
