// A saga's spans: the saga's own, its steps' and compensations'.

#include "saga/saga_trace.hpp"

#include <chrono>
#include <string>

namespace txflow::saga {
namespace {

std::int64_t unix_ns(WallTime t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool parse_span_id(std::string_view hex, observe::SpanId& out) {
    // A traceparent with a dummy trace id parses the 16 digits with the same checks.
    auto parsed = observe::TraceContext::parse("00-00000000000000000000000000000001-" + std::string(hex) + "-01");
    if (!parsed) return false;
    out = parsed->span_id;
    return true;
}

}  // namespace

void begin_trace(Instance& in, observe::Tracer* tracer, const observe::TraceContext* parent) {
    if (parent != nullptr && parent->valid()) {
        in.trace = parent->child();
        in.trace_parent = parent->span_id;
    } else if (tracer != nullptr) {
        in.trace = observe::TraceContext::new_root();
    }
}

std::optional<store::SagaTrace> trace_record(const Instance& in) {
    if (!in.trace) return std::nullopt;
    const bool root = in.trace_parent == observe::SpanId{};
    return store::SagaTrace{in.id, in.trace->traceparent(), in.trace->tracestate,
                            root ? std::string() : observe::to_hex(in.trace_parent.data(), in.trace_parent.size())};
}

bool recover_trace(Instance& in, const store::LiveSaga& s) {
    if (s.traceparent.empty()) return true;
    auto parsed = observe::TraceContext::parse(s.traceparent, s.tracestate);
    if (!parsed) return false;
    if (!s.trace_parent_span.empty() && !parse_span_id(s.trace_parent_span, in.trace_parent)) return false;
    in.trace = std::move(*parsed);
    return true;
}

void end_saga_span(observe::Tracer* tracer, Instance& in, State to, WallTime now) {
    const bool rests = to == State::succeeded || to == State::compensated || to == State::compensation_failed;
    if (tracer == nullptr || !in.trace || !rests || in.trace_ended) return;
    in.trace_ended = true;
    observe::Span span;
    span.name = "saga " + in.definition;
    span.context = *in.trace;
    span.parent_span_id = in.trace_parent;
    span.start_unix_ns = unix_ns(in.created);
    span.end_unix_ns = unix_ns(now);
    span.status = to == State::succeeded ? observe::Span::Status::ok : observe::Span::Status::error;
    if (to != State::succeeded) span.status_message = in.error;
    span.attributes = {
        {"txflow.saga.id", in.id},
        {"txflow.saga.name", in.definition},
        {"txflow.outcome", std::string(to_string(to))},
    };
    if (!in.error.empty()) span.attributes.push_back({"txflow.error", in.error});
    tracer->record(std::move(span));
}

void StepTrace::begin(const observe::TraceContext& saga) {
    context_ = saga.child();
    current_.emplace(&*context_);
    start_ns_ = observe::Span::now_unix_ns();
}

void StepTrace::finish(const Instance& in, std::string_view step, std::uint32_t attempt, bool compensation,
                       std::string_view error) {
    current_.reset();
    observe::Span span;
    span.name = (compensation ? "compensate " : "step ") + std::string(step);
    span.context = *context_;
    span.parent_span_id = in.trace->span_id;
    span.start_unix_ns = start_ns_;
    span.end_unix_ns = observe::Span::now_unix_ns();
    span.status = error.empty() ? observe::Span::Status::ok : observe::Span::Status::error;
    span.status_message = std::string(error);
    span.attributes = {
        {"txflow.saga.id", in.id},
        {"txflow.saga.name", in.definition},
        {"txflow.step.name", std::string(step)},
        {"txflow.attempt", static_cast<std::int64_t>(attempt)},
        {"txflow.compensation", compensation},
        {"txflow.outcome", std::string(error.empty() ? "succeeded" : "failed")},
    };
    if (!error.empty()) span.attributes.push_back({"txflow.error", std::string(error)});
    tracer_->record(std::move(span));
}

}  // namespace txflow::saga
