// BatchExporter's lock-free queue under many producers (run under TSan in
// CI), and the Span a job attempt's raw record stands for.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "observe/trace_support.hpp"
#include "txflow/observe/exporters.hpp"
#include "txflow/observe/job_span.hpp"

namespace span_queue_test {

using namespace std::chrono_literals;
using txflow::observe::BatchExporter;
using txflow::observe::BatchOptions;
using txflow::observe::JobSpan;
using txflow::observe::Span;

namespace {

// Keeps what each batch carried; sends slowly when asked, so the queue fills.
class Keeping final : public BatchExporter {
public:
    explicit Keeping(BatchOptions options, std::chrono::microseconds delay = {})
        : BatchExporter(std::move(options)), delay_(delay) {}
    ~Keeping() override { shutdown(); }
    Keeping(const Keeping&) = delete;
    Keeping& operator=(const Keeping&) = delete;
    std::vector<Span> spans() {
        const std::lock_guard lock(mutex_);
        return spans_;
    }

private:
    bool send(const std::vector<Span>& batch) override {
        if (delay_.count() != 0) std::this_thread::sleep_for(delay_);
        const std::lock_guard lock(mutex_);
        spans_.insert(spans_.end(), batch.begin(), batch.end());
        return true;
    }
    std::chrono::microseconds delay_;
    std::mutex mutex_;
    std::vector<Span> spans_;
};

JobSpan job_span(int thread, int i) {
    JobSpan s;
    s.context = txflow::observe::TraceContext::new_root();
    s.job = "job-with-a-name-longer-than-sso-" + std::to_string(thread);
    s.run_number = static_cast<std::uint64_t>(i);
    s.attempt = 1;
    s.outcome = txflow::Outcome::succeeded;
    s.start_unix_ns = i;
    s.end_unix_ns = i + 1;
    return s;
}

}  // namespace

TEST_CASE("JobSpan::to_span: the job span's name, status and attributes, in order", "[observe][trace]") {
    JobSpan raw;
    raw.context = txflow::observe::TraceContext::new_root();
    raw.parent_span_id = {1, 2, 3, 4, 5, 6, 7, 8};
    raw.start_unix_ns = 10;
    raw.end_unix_ns = 20;
    raw.job = "invoice";
    raw.run_number = 7;
    raw.attempt = 2;
    raw.outcome = txflow::Outcome::timed_out;
    raw.error = "took too long";
    const Span s = raw.to_span();
    CHECK(s.name == "job invoice");
    CHECK(s.context.span_id == raw.context.span_id);
    CHECK(s.parent_span_id == raw.parent_span_id);
    CHECK(s.kind == Span::Kind::consumer);
    CHECK(s.start_unix_ns == 10);
    CHECK(s.end_unix_ns == 20);
    CHECK(s.status == Span::Status::error);
    CHECK(s.status_message == "took too long");
    const std::vector<txflow::observe::Attribute> expected = {
        {"messaging.system", std::string("txflow")},    {"messaging.operation", std::string("process")},
        {"txflow.job.name", std::string("invoice")},    {"txflow.attempt", std::int64_t{2}},
        {"txflow.run_number", std::int64_t{7}},         {"txflow.outcome", std::string("timed_out")},
        {"txflow.error", std::string("took too long")},
    };
    REQUIRE(s.attributes.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(s.attributes[i].key == expected[i].key);
        CHECK(s.attributes[i].value == expected[i].value);
    }
    raw.outcome = txflow::Outcome::skipped;  // an error, yet not a failure: status ok, no message
    raw.error = "nothing to do";
    const Span skipped = raw.to_span();
    CHECK(skipped.status == Span::Status::ok);
    CHECK(skipped.status_message.empty());
    CHECK(skipped.attributes.back().key == "txflow.error");
    raw.error.clear();
    CHECK(raw.to_span().attributes.size() == 6);
}

TEST_CASE("an exporter that does not queue gets job spans formatted", "[observe][trace]") {
    auto collecting = std::make_shared<txflow::test::CollectingExporter>();
    txflow::observe::Tracer tracer(collecting);
    JobSpan raw = job_span(0, 1);
    tracer.record_job(JobSpan(raw));
    raw.context.flags = 0;  // not sampled: dropped
    tracer.record_job(std::move(raw));
    const auto spans = collecting->spans();
    REQUIRE(spans.size() == 1);
    CHECK(spans[0].name == "job job-with-a-name-longer-than-sso-0");
}

TEST_CASE("BatchExporter under many producers: every span sent once or counted as dropped", "[observe][stress]") {
    constexpr int kThreads = 6;
    constexpr int kPerThread = 20'000;
    BatchOptions options;
    options.max_queue = 300;  // not a power of two: the ring wraps at any size
    options.max_batch = 64;
    options.interval = 1ms;
    // The sender sleeps per batch: the queue fills and drops happen while producers race.
    Keeping exporter(options, 50us);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < kPerThread; ++i) {
                if (i % 3 == 0) {  // formatted spans share the queue
                    Span s;
                    s.name = "plain " + std::to_string(t);
                    s.context = txflow::observe::TraceContext::new_root();
                    s.start_unix_ns = i;
                    exporter.export_span(std::move(s));
                } else {
                    exporter.export_job_span(job_span(t, i));
                }
            }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    REQUIRE(exporter.flush(30s));
    const auto spans = exporter.spans();
    CHECK(exporter.exported() == spans.size());
    CHECK(exporter.exported() + exporter.dropped() == std::uint64_t{kThreads} * kPerThread);
    CHECK(exporter.dropped() > 0);  // the slow sender made the queue overflow
    // Each span arrived whole and once: (name, start) is unique per producer and index.
    std::set<std::pair<std::string, std::int64_t>> seen;
    for (const auto& s : spans) {
        CHECK(s.context.valid());
        const bool job = s.name.rfind("job ", 0) == 0;
        if (job) {
            REQUIRE(s.attributes.size() == 6);
            CHECK(std::get<std::int64_t>(s.attributes[4].value) == s.start_unix_ns);  // run_number == i
            CHECK(s.end_unix_ns == s.start_unix_ns + 1);
        }
        CHECK(seen.insert({s.name, s.start_unix_ns}).second);
    }
}

TEST_CASE("BatchExporter: spans pushed while the sender drains all arrive in order per producer", "[observe][stress]") {
    BatchOptions options;
    options.max_queue = 40'000;  // room for all: nothing dropped
    options.max_batch = 100;
    options.interval = 1ms;
    Keeping exporter(options);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 10'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) exporter.export_job_span(job_span(t, i));
        });
    for (auto& th : threads) th.join();
    REQUIRE(exporter.flush(30s));
    CHECK(exporter.dropped() == 0);
    const auto spans = exporter.spans();
    REQUIRE(spans.size() == std::size_t{kThreads} * kPerThread);
    std::vector<std::int64_t> last(kThreads, -1);
    for (const auto& s : spans) {
        const auto t = static_cast<std::size_t>(s.name.back() - '0');
        REQUIRE(t < last.size());
        CHECK(s.start_unix_ns > last[t]);  // one producer's spans keep their order
        last[t] = s.start_unix_ns;
    }
}

}  // namespace span_queue_test
