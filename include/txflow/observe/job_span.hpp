#pragma once
// A job attempt's span as the scheduler records it on the job's thread: ids,
// times and raw fields, nothing formatted. Exporters that queue (BatchExporter)
// keep it raw and build the Span (its name and attributes) on their sending
// thread; any other SpanExporter gets to_span() at once.

#include <cstdint>
#include <string>

#include "txflow/core/export.hpp"
#include "txflow/observe/events.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow::observe {

/// One finished job attempt, unformatted (see to_span() for the Span it stands for).
struct TXFLOW_EXPORT JobSpan {
    TraceContext context;             ///< the attempt's ids
    SpanId parent_span_id{};          ///< all zero: a root span
    std::int64_t start_unix_ns = 0;   ///< start, ns since the Unix epoch
    std::int64_t end_unix_ns = 0;     ///< end, ns since the Unix epoch
    std::string job;                  ///< the job's name
    std::string error;                ///< why it failed, timed out or was skipped (may be empty)
    std::uint64_t run_number = 0;     ///< the run this attempt belongs to
    std::uint32_t attempt = 1;        ///< 1 for the first attempt
    Outcome outcome = Outcome::none;  ///< how the attempt ended

    /// The Span: "job <name>", kind consumer, status error when it failed or timed out, and the
    /// attributes messaging.system, messaging.operation, txflow.job.name, txflow.attempt,
    /// txflow.run_number, txflow.outcome and (with an error) txflow.error.
    [[nodiscard]] Span to_span() const;
};

}  // namespace txflow::observe
