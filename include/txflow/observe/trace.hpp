#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/) and spans.
//
//   auto tracer = std::make_shared<txflow::observe::Tracer>(
//       txflow::observe::make_otlp_exporter({.endpoint = "http://127.0.0.1:4318"}));
//   txflow::SchedulerOptions().tracer(tracer);
//   // in a job: if (auto* t = ctx.trace()) headers["traceparent"] = t->traceparent();
//
// Each job attempt, saga, saga step and compensation becomes a Span handed to
// the tracer's SpanExporter when it ends. Without a tracer the scheduler pays
// one null check per run.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "txflow/core/export.hpp"
#include "txflow/result.hpp"

namespace txflow::observe {

/// A 16-byte trace id (all zero: invalid).
using TraceId = std::array<std::uint8_t, 16>;
/// An 8-byte span id (all zero: invalid, or "no parent").
using SpanId = std::array<std::uint8_t, 8>;

/// The identity of one span in its trace, as a `traceparent` header carries it, plus `tracestate`.
struct TXFLOW_EXPORT TraceContext {
    TraceId trace_id{};      ///< the trace this span belongs to
    SpanId span_id{};        ///< this span
    std::uint8_t flags = 1;  ///< trace-flags; bit 0: sampled
    std::string tracestate;  ///< vendor data, passed on as given (may be empty)

    /// Parses `00-<32 hex>-<16 hex>-<2 hex>` strictly (lowercase, no zero ids, version ff refused);
    /// the error says which part is wrong and why.
    static Result<TraceContext, std::string> parse(std::string_view traceparent, std::string_view tracestate = {});
    /// A new trace: random trace and span ids, sampled (a per-thread generator seeded once).
    static TraceContext new_root();
    /// A new span of the same trace (random span id, same flags and tracestate).
    [[nodiscard]] TraceContext child() const;

    /// The `traceparent` header value: `00-<trace id>-<span id>-<flags>`.
    [[nodiscard]] std::string traceparent() const;
    /// The trace id as 32 lowercase hex digits.
    [[nodiscard]] std::string trace_id_hex() const;
    /// The span id as 16 lowercase hex digits.
    [[nodiscard]] std::string span_id_hex() const;
    /// Both ids non-zero.
    [[nodiscard]] bool valid() const;
    /// Trace-flags bit 0.
    [[nodiscard]] bool sampled() const { return (flags & 1U) != 0; }
};

/// Lowercase hex of an id.
TXFLOW_EXPORT std::string to_hex(const std::uint8_t* bytes, std::size_t size);

/// A span attribute's value (OpenTelemetry's string, int, double, bool).
using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

/// One span attribute.
struct TXFLOW_EXPORT Attribute {
    std::string key;       ///< e.g. "txflow.job.name"
    AttributeValue value;  ///< its value
};

/// A finished span, as exporters receive it.
struct TXFLOW_EXPORT Span {
    /// OpenTelemetry's SpanKind (the OTLP numbers).
    enum class Kind : std::uint8_t { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };
    /// OpenTelemetry's status code (the OTLP numbers).
    enum class Status : std::uint8_t { unset = 0, ok = 1, error = 2 };

    std::string name;                   ///< e.g. "job nightly", "saga transfer", "step debit"
    TraceContext context;               ///< this span's ids
    SpanId parent_span_id{};            ///< all zero: a root span
    Kind kind = Kind::internal;         ///< what the span stands for
    std::int64_t start_unix_ns = 0;     ///< start, ns since the Unix epoch
    std::int64_t end_unix_ns = 0;       ///< end, ns since the Unix epoch
    Status status = Status::unset;      ///< ok or error when known
    std::string status_message;         ///< error: why
    std::vector<Attribute> attributes;  ///< key/value pairs

    /// The current wall time in ns since the Unix epoch.
    static std::int64_t now_unix_ns();
};

struct JobSpan;

/// Where finished spans go. export_span() is called on the scheduler's threads (sometimes under
/// the saga engine's lock): it must not block and must not throw.
class TXFLOW_EXPORT SpanExporter {
public:
    virtual ~SpanExporter() = default;
    /// Takes one finished span (queue it; drop it when full).
    virtual void export_span(Span span) noexcept = 0;
    /// Takes one finished job attempt, unformatted (txflow/observe/job_span.hpp). The default
    /// hands `span.to_span()` to export_span(); a queueing exporter keeps it raw and formats it
    /// on its own thread.
    virtual void export_job_span(JobSpan&& span) noexcept;
    /// Sends what is queued, waiting at most `timeout`; true when nothing is left.
    virtual bool flush(std::chrono::milliseconds timeout) = 0;
};

/// What a scheduler traces with: the exporter spans are handed to. Shared by schedulers.
class TXFLOW_EXPORT Tracer {
public:
    /// A tracer exporting to `exporter` (not null).
    explicit Tracer(std::shared_ptr<SpanExporter> exporter);
    /// Hands a finished span to the exporter (unsampled spans are dropped).
    void record(Span span) noexcept;
    /// Hands a finished job attempt to the exporter (unsampled ones are dropped).
    void record_job(JobSpan&& span) noexcept;
    /// The exporter.
    [[nodiscard]] SpanExporter& exporter() const { return *exporter_; }

private:
    std::shared_ptr<SpanExporter> exporter_;
};

/// The trace context of the job attempt or saga step running on this thread, or null:
/// what log formatters read (see trace_log.hpp).
TXFLOW_EXPORT const TraceContext* current_trace() noexcept;

/// Makes `context` the current trace of this thread for its scope.
class TXFLOW_EXPORT ScopedTrace {
public:
    /// Sets current_trace() to `context` (may be null).
    explicit ScopedTrace(const TraceContext* context) noexcept;
    /// Restores the previous one.
    ~ScopedTrace();
    ScopedTrace(const ScopedTrace&) = delete;
    ScopedTrace& operator=(const ScopedTrace&) = delete;

private:
    const TraceContext* previous_;
};

}  // namespace txflow::observe
