#include "cluster/producer.hpp"

#include <algorithm>
#include <chrono>

namespace txflow::cluster {

Producer::Producer(Shared& shared, Pool& pool)
    : shared_(shared),
      pool_(pool),
      session_("producer", shared.options, *shared.log, shared.stop_claims, shared.counters.reconnects) {}

void Producer::start() {
    thread_ = std::thread([this] { run(); });
}

void Producer::join() {
    if (thread_.joinable()) thread_.join();
}

void Producer::run() {
    const auto& o = shared_.options;
    while (!shared_.stop_claims.is_set()) {
        if (!session_.ensure()) break;
        const Round round = claim_round();
        // After a skipped round the last claim's answer still holds: the
        // pool wakes us when its threads run low and more may be waiting.
        if (round != Round::skipped) shared_.maybe_more.store(round == Round::full, std::memory_order_relaxed);
        // Straight on while jobs are waiting in the database and threads
        // are about to run dry; else sleep until woken or the poll interval.
        if (round == Round::full && pool_.waiting() < o.concurrency) continue;
        shared_.producer_wake.wait_for(o.poll_interval);
    }
}

Producer::Round Producer::claim_round() {
    const auto& o = shared_.options;
    // Claim only when the threads are about to run dry, and then enough for
    // a batch: a claim per job would cost a round trip per job.
    if (pool_.waiting() >= o.concurrency) return Round::skipped;
    const auto capacity = static_cast<std::size_t>(o.concurrency) + static_cast<std::size_t>(o.claim_batch);
    bool full = false;
    for (std::size_t i = 0; i < o.queues.size(); ++i) {
        const auto in_flight = pool_.in_flight();
        if (in_flight >= capacity) return full ? Round::full : Round::skipped;
        const int want =
            static_cast<int>(std::min<std::size_t>(capacity - in_flight, static_cast<std::size_t>(o.claim_batch)));
        // Round robin: a busy first queue does not starve the others.
        const std::size_t q = (next_queue_ + i) % o.queues.size();
        const auto& queue = o.queues[q];
        const auto t0 = std::chrono::steady_clock::now();
        auto jobs = claim(session_, shared_.tables, queue, want, o.lease, shared_.node_id.load());
        if (jobs && shared_.metrics) {
            shared_.metrics->claim_duration(q).observe(std::chrono::steady_clock::now() - t0);
            shared_.metrics->claimed(q).inc(jobs->size());
        }
        if (!jobs) {
            if (session_.connected()) {
                shared_.log->error("txflow cluster producer: {}", jobs.error().message);
            }
            return Round::drained;
        }
        if (jobs->empty()) continue;
        full = full || static_cast<int>(jobs->size()) == want;
        shared_.counters.claimed.fetch_add(jobs->size(), std::memory_order_relaxed);
        shared_.holdings.add(*jobs);
        pool_.push(std::move(*jobs));
    }
    next_queue_ = (next_queue_ + 1) % o.queues.size();
    return full ? Round::full : Round::drained;
}

}  // namespace txflow::cluster
