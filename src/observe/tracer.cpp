// Tracer: finished spans to the exporter; the thread's current trace.

#include "txflow/observe/trace.hpp"

#include "txflow/observe/job_span.hpp"

#include <stdexcept>

namespace txflow::observe {
namespace {
thread_local const TraceContext* t_current = nullptr;
}

std::int64_t Span::now_unix_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Tracer::Tracer(std::shared_ptr<SpanExporter> exporter) : exporter_(std::move(exporter)) {
    if (!exporter_) throw std::invalid_argument("observe::Tracer: no exporter");
}

void Tracer::record(Span span) noexcept {
    if (span.context.sampled()) exporter_->export_span(std::move(span));
}

void SpanExporter::export_job_span(JobSpan&& span) noexcept {
    try {
        export_span(span.to_span());
    } catch (...) {  // to_span() allocates: a span lost to bad_alloc, never a job
    }
}

void Tracer::record_job(JobSpan&& span) noexcept {
    if (span.context.sampled()) exporter_->export_job_span(std::move(span));
}

const TraceContext* current_trace() noexcept {
    return t_current;
}

ScopedTrace::ScopedTrace(const TraceContext* context) noexcept : previous_(t_current) {
    t_current = context;
}
ScopedTrace::~ScopedTrace() {
    t_current = previous_;
}

}  // namespace txflow::observe
