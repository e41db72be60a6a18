// The scheduler's metric families and how events and flushes feed them.

#include "scheduler/metrics.hpp"

#include "txflow/saga/state.hpp"

#include <string>
#include <vector>

namespace txflow {
namespace {

using observe::Counter;
using observe::Family;
using observe::Gauge;
using observe::Histogram;
using observe::Registry;
namespace buckets = observe::buckets;

constexpr std::string_view kAtomicTotal = "txflow_atomic_transactions_total";
constexpr std::string_view kAtomicTotalHelp = "Atomic transactions that finished, by outcome";

// Turns a store's flushes into the group-commit figures.
class FlushObserver final : public store::StoreObserver {
public:
    FlushObserver(const std::shared_ptr<Registry>& registry, std::string_view store)
        : registry_(registry),
          sync_(registry
                    ->histogram("txflow_store_sync_duration_seconds",
                                "Time in one durable sync of the store (WAL: fdatasync; PostgreSQL: COMMIT)", {"store"},
                                buckets::latencies())
                    .with({store})),
          batch_(registry
                     ->histogram("txflow_store_batch_records",
                                 "Records written by one flush (the group-commit batch size)", {"store"},
                                 buckets::exponential(1, 2, 13))
                     .with({store})) {}
    void on_flush(const store::FlushStats& flush) noexcept override {
        batch_.observe(static_cast<double>(flush.records));
        if (flush.durable) sync_.observe(flush.sync_duration);
    }

private:
    std::shared_ptr<Registry> registry_;  // keeps the cells alive as long as the store holds this
    Histogram& sync_;
    Histogram& batch_;
};

// "closed->open" -> {"closed", "open"}; false when the text has no arrow.
bool split_transition(std::string_view text, std::string_view& from, std::string_view& to) {
    const auto arrow = text.find("->");
    if (arrow == std::string_view::npos) return false;
    from = text.substr(0, arrow);
    to = text.substr(arrow + 2);
    return true;
}

}  // namespace

SchedulerMetrics::SchedulerMetrics(std::shared_ptr<Registry> registry, std::function<void(SchedulerMetrics&)> collector,
                                   std::shared_ptr<store::Store> store)
    : queue_depth(registry->gauge("txflow_queue_depth", "Runs queued (waiting for a worker) per queue", {"queue"})),
      queue_running(registry->gauge("txflow_queue_running", "Runs executing per queue", {"queue"})),
      queue_limit(registry->gauge("txflow_queue_limit", "A queue's concurrency limit (0: none)", {"queue"})),
      queue_oldest_wait(registry->gauge("txflow_queue_oldest_wait_seconds",
                                        "How long the oldest queued run of a queue has waited (queue latency)",
                                        {"queue"})),
      breaker_state(registry->gauge("txflow_breaker_state", "1 for a circuit breaker's current state, else 0",
                                    {"breaker", "state"})),
      breaker_window_calls(
          registry->gauge("txflow_breaker_window_calls", "Calls in a breaker's rolling window", {"breaker"})),
      breaker_window_failure_ratio(registry->gauge("txflow_breaker_window_failure_ratio",
                                                   "Failed / calls in a breaker's rolling window", {"breaker"})),
      breaker_window_latency(registry->gauge("txflow_breaker_window_latency_seconds",
                                             "The breaker's latency percentile (BreakerOptions::slow_percentile) "
                                             "over its window",
                                             {"breaker"})),
      sagas(registry->gauge("txflow_saga_instances", "Saga instances held, by state", {"state"})),
      atomic_transactions(registry->gauge("txflow_atomic_transactions",
                                          "Atomic transactions in flight (not yet committed or aborted), by state",
                                          {"state"})),
      atomic_committed(registry->counter(kAtomicTotal, kAtomicTotalHelp, {"outcome"}).with({"committed"})),
      atomic_aborted(registry->counter(kAtomicTotal, kAtomicTotalHelp, {"outcome"}).with({"aborted"})),
      atomic_participant_retries(registry
                                     ->counter("txflow_atomic_participant_retries_total",
                                               "Commit or abort attempts of a participant that failed and are sent "
                                               "again (after the backoff)")
                                     .with(std::initializer_list<std::string_view>{})),
      registry_(std::move(registry)),
      runs_(registry_->counter("txflow_job_runs_total",
                               "Job attempts that ended, by outcome (a retried run counts each attempt)",
                               {"job", "queue", "outcome"},
                               // five outcomes per job: the cap counts jobs like the other families
                               {.max_series = 5 * registry_->max_series_per_family()})),
      timeouts_(registry_->counter("txflow_job_timeouts_total", "Attempts that hit their timeout", {"job", "queue"})),
      retries_(
          registry_->counter("txflow_job_retries_total", "Retries armed after a failed attempt", {"job", "queue"})),
      misfires_(registry_->counter("txflow_job_misfires_total",
                                   "Fires missed (clock jump, pause, down time, a busy job)", {"job", "queue"})),
      skipped_fires_(registry_->counter("txflow_job_skipped_fires_total",
                                        "Fires not run: misfire policy skip, or coalesced behind a queued run",
                                        {"job", "queue"})),
      refused_(registry_->counter("txflow_job_refused_total", "Runs the executor's full backlog rejected or dropped",
                                  {"job", "queue"})),
      dead_letters_(
          registry_->counter("txflow_job_dead_letters_total", "Runs that gave up (dead-lettered)", {"job", "queue"})),
      duration_(registry_->histogram("txflow_job_run_duration_seconds", "How long one attempt of a job ran",
                                     {"job", "queue"}, buckets::durations())),
      lateness_(registry_->histogram("txflow_job_fire_lateness_seconds",
                                     "From the instant a run was scheduled for to its start (first attempts)",
                                     {"job", "queue"}, buckets::latencies())),
      breaker_transitions_(registry_->counter("txflow_breaker_transitions_total", "Circuit breaker state changes",
                                              {"breaker", "from", "to"})),
      saga_transitions_(
          registry_->counter("txflow_saga_transitions_total", "Saga instances entering a state", {"state"})),
      compensations_(registry_->counter("txflow_saga_compensations_total",
                                        "Saga step compensations that ended, by result", {"result"})),
      preemptions_(registry_->counter("txflow_job_preemptions_total",
                                      "Runs of a job asked to yield their worker to a higher priority, by result "
                                      "(requested, yielded, grace_expired)",
                                      {"job", "result"})) {
    collector_ = registry_->add_collector([this, collect = std::move(collector)] { collect(*this); });
    if (store) {
        store->set_observer(std::make_shared<FlushObserver>(registry_, store->name()));
        store_ = std::move(store);
    }
}

SchedulerMetrics::~SchedulerMetrics() {
    registry_->remove_collector(collector_);
    if (store_) store_->set_observer(nullptr);
}

const JobMetrics* SchedulerMetrics::job(std::string_view name, std::string_view queue) {
    if (queue.empty()) queue = "default";
    std::string key(name);
    key += '\0';
    key += queue;
    const std::lock_guard lock(mutex_);
    auto& slot = jobs_[key];
    if (slot) return slot.get();
    auto m = std::make_unique<JobMetrics>();
    for (std::size_t o = 1; o < m->runs.size(); ++o)  // not Outcome::none: no attempt ends with it
        m->runs[o] = &runs_.with({name, queue, to_string(static_cast<Outcome>(o))});
    m->timeouts = &timeouts_.with({name, queue});
    m->retries = &retries_.with({name, queue});
    m->misfires = &misfires_.with({name, queue});
    m->skipped_fires = &skipped_fires_.with({name, queue});
    m->refused = &refused_.with({name, queue});
    m->dead_letters = &dead_letters_.with({name, queue});
    m->duration = &duration_.with({name, queue});
    m->lateness = &lateness_.with({name, queue});
    slot = std::move(m);
    return slot.get();
}

void SchedulerMetrics::on_event(const Event& e) {
    std::string_view from;
    std::string_view to;
    if (e.kind == EventKind::breaker) {
        if (split_transition(e.detail, from, to)) breaker_transitions_.with({e.job, from, to}).inc();
    } else if (e.kind == EventKind::preempted) {
        preemptions_.with({e.job, e.detail}).inc();  // rare: a run asked to yield, not every run
    } else if (e.kind == EventKind::saga) {
        if (!split_transition(e.detail, from, to)) return;
        if (e.detail.starts_with("step ")) {
            // "step credit: compensating->compensated"
            if (to == "compensated" || to == "compensation_failed") compensations_.with({to}).inc();
        } else if (saga::State state{}; saga::parse_state(to, state)) {
            // Not an atomic transaction's ("preparing->committing"): those are counted by their coordinator.
            saga_transitions_.with({to}).inc();
        }
    }
}

}  // namespace txflow
