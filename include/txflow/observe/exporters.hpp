#pragma once
// Span exporters: OTLP/HTTP with JSON encoding (POST <endpoint>/v1/traces,
// libcurl) and JSON lines in a file. Both queue spans in a bounded lock-free
// queue and send them in batches from a background thread: export_span()
// never blocks nor takes a lock (a full queue drops the span and counts it),
// a failed send is retried with backoff, and the destructor flushes what is
// queued.
//
//   auto exporter = txflow::observe::make_otlp_exporter(txflow::observe::OtlpOptions::from_env());
//   SchedulerOptions().tracer(std::make_shared<txflow::observe::Tracer>(exporter));

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "txflow/core/export.hpp"
#include "txflow/observe/job_span.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow::observe {

/// How a batching exporter queues, batches and retries.
struct TXFLOW_EXPORT BatchOptions {
    std::string service_name = "txflow";           ///< the resource's service.name
    std::size_t max_queue = 2048;                  ///< spans queued at most; more are dropped
    std::size_t max_batch = 512;                   ///< spans sent at once at most
    std::chrono::milliseconds interval{1000};      ///< how long a span waits for its batch to fill
    std::uint32_t max_attempts = 3;                ///< sends of one batch before it is dropped
    std::chrono::milliseconds first_backoff{100};  ///< wait before the second attempt (doubles)
};

/// OTLP/HTTP JSON exporter settings.
struct TXFLOW_EXPORT OtlpOptions {
    std::string endpoint = "http://127.0.0.1:4318";  ///< the collector; "/v1/traces" is appended
    std::chrono::milliseconds timeout{5000};         ///< per request
    BatchOptions batch;                              ///< queueing and retries
    /// Defaults overridden by OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME when set.
    static OtlpOptions from_env();
};

/// A SpanExporter with a bounded queue and a sending thread; subclasses say how a batch is sent.
class TXFLOW_EXPORT BatchExporter : public SpanExporter {
public:
    /// Starts the sending thread.
    explicit BatchExporter(BatchOptions options);
    /// Flushes (up to 5 s) and stops the thread. Subclasses call shutdown() in theirs.
    ~BatchExporter() override;
    BatchExporter(const BatchExporter&) = delete;
    BatchExporter& operator=(const BatchExporter&) = delete;

    /// Queues the span; drops (and counts) it when the queue is full.
    void export_span(Span span) noexcept override;
    /// Queues the attempt unformatted (its Span is built on the sending thread); drops (and
    /// counts) it when the queue is full.
    void export_job_span(JobSpan&& span) noexcept override;
    /// Waits until every queued span was sent or dropped, at most `timeout`.
    bool flush(std::chrono::milliseconds timeout) override;
    /// Spans dropped: queue full, or their batch failed every attempt.
    [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    /// Spans sent.
    [[nodiscard]] std::uint64_t exported() const { return exported_.load(std::memory_order_relaxed); }
    /// The options it was made with.
    [[nodiscard]] const BatchOptions& options() const { return options_; }

protected:
    /// Sends one batch; false to retry. Called on the sending thread only.
    virtual bool send(const std::vector<Span>& batch) = 0;
    /// Flushes and joins the thread; subclasses call it first in their destructor.
    void shutdown();

private:
    struct State;
    template <typename T>
    void enqueue(T&& span) noexcept;
    void loop();
    BatchOptions options_;
    std::unique_ptr<State> state_;
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> exported_{0};
};

/// The OTLP/HTTP JSON body for spans (an ExportTraceServiceRequest: resourceSpans/scopeSpans/spans).
TXFLOW_EXPORT std::string to_otlp_json(const std::vector<Span>& spans, const std::string& service_name);
/// One span as a JSON object on one line (the OTLP span shape, plus "service").
TXFLOW_EXPORT std::string to_json_line(const Span& span, const std::string& service_name);

/// Exports to an OpenTelemetry collector over OTLP/HTTP with JSON encoding (libcurl).
TXFLOW_EXPORT std::shared_ptr<BatchExporter> make_otlp_exporter(OtlpOptions options);
/// Appends spans as JSON lines to `path` (created if missing). Throws std::runtime_error when it cannot be opened.
TXFLOW_EXPORT std::shared_ptr<BatchExporter> make_jsonl_exporter(const std::filesystem::path& path,
                                                                 BatchOptions options = {});

}  // namespace txflow::observe
