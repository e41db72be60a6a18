// A job attempt's span formatted: its name and attributes (OpenTelemetry's
// messaging conventions where they fit, txflow.* for the rest). Runs on an
// exporter's sending thread, or at once for an exporter that does not queue.

#include "txflow/observe/job_span.hpp"

namespace txflow::observe {

Span JobSpan::to_span() const {
    Span span;
    span.name.reserve(4 + job.size());
    span.name.append("job ").append(job);
    span.context = context;
    span.parent_span_id = parent_span_id;
    span.kind = Span::Kind::consumer;
    span.start_unix_ns = start_unix_ns;
    span.end_unix_ns = end_unix_ns;
    const bool failed = outcome == Outcome::failed || outcome == Outcome::timed_out;
    span.status = failed ? Span::Status::error : Span::Status::ok;
    if (failed) span.status_message = error;
    span.attributes.reserve(error.empty() ? 6 : 7);
    span.attributes.push_back({"messaging.system", std::string("txflow")});
    span.attributes.push_back({"messaging.operation", std::string("process")});
    span.attributes.push_back({"txflow.job.name", job});
    span.attributes.push_back({"txflow.attempt", static_cast<std::int64_t>(attempt)});
    span.attributes.push_back({"txflow.run_number", static_cast<std::int64_t>(run_number)});
    span.attributes.push_back({"txflow.outcome", std::string(to_string(outcome))});
    if (!error.empty()) span.attributes.push_back({"txflow.error", error});
    return span;
}

}  // namespace txflow::observe
