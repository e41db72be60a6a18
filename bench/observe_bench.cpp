// observe_bench: what metrics cost a run, one `name value` line each (the
// names are a contract: bench/RESULTS.md and issue 18 use them).
//
//   observe_overhead_ns_per_run   ns per run of a scheduler with
//                                 SchedulerOptions::metrics and ::tracer (an
//                                 OTLP/HTTP exporter posting to a collector:
//                                 an in-process cpp-httplib server counting
//                                 the spans it receives) minus one without
//                                 either, same binary, same process: an empty job
//                                 triggered kRuns times (trigger_now) and
//                                 waited for; the two schedulers alternate
//                                 for kRounds rounds, medians compared.
//                                 Target <= 150 ns.
//   observe_throughput_ratio      runs/s with metrics and tracing / runs/s without
//                                 (the same medians). Target >= 0.9.
//   observe_overhead_cpu_ns_per_run  the same difference in process CPU time
//                                 (every thread: worker, exporter, collector)
//                                 per run: what the work costs, less swayed by
//                                 the machine's load than the wall-clock figure.
//   observe_hook_ns_per_run       the metric work of one run alone, on one
//                                 thread: lateness (reads the wall clock),
//                                 runs_total and the duration histogram.
//   observe_trace_ns_per_span     one job span alone, on one thread: ids,
//                                 attributes, handed to a dropping exporter.
//   observe_scrape_us             one expose() of the scheduler's registry
//                                 with 100 jobs.
//   observe_spans_received/_dropped  what the collector got, what the exporter
//                                 dropped (its bounded queue full: never blocks a run).
//
// Build in Release (-DTXFLOW_BUILD_BENCH=ON).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "txflow/observe/exporters.hpp"
#include "txflow/observe/metrics.hpp"
#include "txflow/scheduler.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kRuns = 50'000;
constexpr int kRounds = 9;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double process_cpu_ns() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

struct Bench {
    std::unique_ptr<txflow::Scheduler> scheduler;
    txflow::JobHandle job;

    Bench(std::shared_ptr<txflow::observe::Registry> registry, std::shared_ptr<txflow::observe::Tracer> tracer) {
        auto options = txflow::SchedulerOptions{}.workers(1).logger(
            std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()));
        if (registry) options.metrics(std::move(registry));
        if (tracer) options.tracer(std::move(tracer));
        scheduler = std::make_unique<txflow::Scheduler>(std::move(options));
        job = scheduler->job("bench").after(24h).run([](txflow::JobContext&) {});
        scheduler->start();
    }
    double cpu_ns = 0;  // process CPU time of the last ns_per_run(), per run
    double ns_per_run() {
        const double cpu_start = process_cpu_ns();
        const auto start = Clock::now();
        for (int i = 0; i < kRuns; ++i) (void)job.trigger_now();
        scheduler->wait_idle();
        cpu_ns = (process_cpu_ns() - cpu_start) / kRuns;
        return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kRuns;
    }
};

double hook_ns_per_run() {
    txflow::observe::Registry r;
    auto& runs = r.counter("b_runs_total", "", {"job", "queue", "outcome"}).with({"bench", "default", "succeeded"});
    auto& duration = r.histogram("b_duration_seconds", "", {"job", "queue"}, txflow::observe::buckets::durations())
                         .with({"bench", "default"});
    auto& lateness = r.histogram("b_lateness_seconds", "", {"job", "queue"}, txflow::observe::buckets::latencies())
                         .with({"bench", "default"});
    auto& clock = txflow::RealClock::instance();
    const auto scheduled = clock.wall_now();
    constexpr int kCalls = 2'000'000;
    std::vector<double> rounds;
    for (int round = 0; round < 5; ++round) {
        const auto start = Clock::now();
        for (int i = 0; i < kCalls; ++i) {
            lateness.observe(std::chrono::nanoseconds(clock.wall_now() - scheduled));
            runs.inc();
            duration.observe(std::chrono::nanoseconds(1500 + i % 1000));
        }
        rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kCalls);
    }
    return median(rounds);
}

// An OTLP/HTTP collector in the process: counts the spans POSTed to /v1/traces.
class Collector {
public:
    Collector() {
        server_.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
            std::size_t n = 0;
            for (std::size_t at = req.body.find("\"spanId\""); at != std::string::npos;
                 at = req.body.find("\"spanId\"", at + 1))
                ++n;
            spans_.fetch_add(n, std::memory_order_relaxed);
            res.set_content("{}", "application/json");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(1ms);
    }
    ~Collector() {
        server_.stop();
        thread_.join();
    }
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::uint64_t spans() const { return spans_.load(std::memory_order_relaxed); }

private:
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    std::atomic<std::uint64_t> spans_{0};
};

// Drops every span: what building one costs, without the exporter's queue.
class DropExporter final : public txflow::observe::SpanExporter {
public:
    void export_span(txflow::observe::Span span) noexcept override { bytes_ += span.name.size(); }
    bool flush(std::chrono::milliseconds) override { return true; }
    std::size_t bytes_ = 0;
};

double trace_ns_per_span() {
    auto exporter = std::make_shared<DropExporter>();
    txflow::Scheduler s(
        txflow::SchedulerOptions{}.workers(1).tracer(std::make_shared<txflow::observe::Tracer>(exporter)));
    auto job = s.job("bench").after(24h).run([](txflow::JobContext&) {});
    s.start();
    // The same runs without a tracer, in the same process: the difference is the span.
    txflow::Scheduler plain(txflow::SchedulerOptions{}.workers(1));
    auto plain_job = plain.job("bench").after(24h).run([](txflow::JobContext&) {});
    plain.start();
    std::vector<double> diffs;
    for (int round = 0; round < 5; ++round) {
        auto time = [](txflow::Scheduler& sched, txflow::JobHandle& h) {
            const auto start = Clock::now();
            for (int i = 0; i < kRuns; ++i) (void)h.trigger_now();
            sched.wait_idle();
            return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kRuns;
        };
        const double traced = time(s, job);
        diffs.push_back(traced - time(plain, plain_job));
    }
    return median(diffs);
}

}  // namespace

int main() {
    Collector collector;
    txflow::observe::OtlpOptions otlp;
    otlp.endpoint = "http://127.0.0.1:" + std::to_string(collector.port());
    otlp.batch.interval = 100ms;
    auto exporter = txflow::observe::make_otlp_exporter(otlp);
    auto registry = std::make_shared<txflow::observe::Registry>();
    Bench off(nullptr, nullptr);
    Bench on(registry, std::make_shared<txflow::observe::Tracer>(exporter));
    (void)off.ns_per_run();  // warm-up: pools and blocks reach their peak
    (void)on.ns_per_run();
    std::vector<double> off_ns;
    std::vector<double> on_ns;
    std::vector<double> cpu_diffs;
    for (int round = 0; round < kRounds; ++round) {
        off_ns.push_back(off.ns_per_run());
        on_ns.push_back(on.ns_per_run());
        cpu_diffs.push_back(on.cpu_ns - off.cpu_ns);
    }
    const double off_median = median(off_ns);
    const double on_median = median(on_ns);
    std::printf("observe_off_ns_per_run %.1f\n", off_median);
    std::printf("observe_on_ns_per_run %.1f\n", on_median);
    std::printf("observe_overhead_ns_per_run %.1f\n", on_median - off_median);
    std::printf("observe_throughput_ratio %.3f\n", off_median / on_median);
    std::printf("observe_overhead_cpu_ns_per_run %.1f\n", median(cpu_diffs));
    (void)exporter->flush(5s);
    std::printf("observe_spans_received %llu\n", static_cast<unsigned long long>(collector.spans()));
    std::printf("observe_spans_dropped %llu\n", static_cast<unsigned long long>(exporter->dropped()));
    std::printf("observe_hook_ns_per_run %.1f\n", hook_ns_per_run());
    std::printf("observe_trace_ns_per_span %.1f\n", trace_ns_per_span());

    auto scrape_registry = std::make_shared<txflow::observe::Registry>();
    txflow::Scheduler many(txflow::SchedulerOptions{}.workers(1).metrics(scrape_registry));
    for (int i = 0; i < 100; ++i) many.job("job" + std::to_string(i)).after(24h).run([](txflow::JobContext&) {});
    std::vector<double> scrapes;
    std::size_t bytes = 0;
    for (int i = 0; i < 50; ++i) {
        const auto start = Clock::now();
        bytes = scrape_registry->expose().size();
        scrapes.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    std::printf("observe_scrape_us %.1f\n", median(scrapes));
    std::printf("observe_scrape_bytes %zu\n", bytes);
    return 0;
}
