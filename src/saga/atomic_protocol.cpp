// The two phases: prepare and vote, the durable decision, then commit or
// abort until acknowledged.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/wall_ms.hpp"
#include "saga/atomic_coordinator.hpp"
#include "txflow/observe/counter.hpp"

namespace txflow::atomic {

namespace {

std::string what_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(std::move(e));
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

void Coordinator::prepare(Txn& t, std::size_t i) {
    Lock lock(mutex_);
    Part& p = t.parts[i];
    if (t.decision || t.deciding || stopping_) {  // aborted meanwhile: it need not prepare
        p.prepare_running = false;
        if (t.decision) dispatch(t, i);
        return;
    }
    const auto stop = t.stop.get_token();
    const Participant& who = t.def->participants()[i];
    lock.unlock();

    Context ctx(t.id, who.name, Phase::prepare, 1, t.data, stop);
    Vote v;
    try {
        v = who.prepare(ctx);
    } catch (...) {
        v = Vote::refuse(what_of(std::current_exception()));
    }
    if (!v.yes && v.reason.empty()) v.reason = "voted no";

    lock.lock();
    p.prepare_running = false;
    if (stopping_) return;  // shutting down: undecided, so a restart aborts it
    bool decide_now = false;
    if (!p.voted) decide_now = vote(t, i, v.yes, std::move(v.reason));
    if (t.decision) dispatch(t, i);        // aborted meanwhile: its abort waited for its prepare to return
    const bool commit = t.reason.empty();  // no one voted no
    std::string reason = t.reason;
    lock.unlock();
    flush_events();
    if (decide_now) decide(t, commit, std::move(reason));
}

void Coordinator::prepare_timed_out(Txn& t) {
    t.deadline_armed = false;
    bool decide_now = false;
    for (std::size_t i = 0; i < t.parts.size(); ++i) {
        Part& p = t.parts[i];
        if (p.voted) continue;
        t.stop.request_stop();
        decide_now |=
            vote(t, i, false, fmt::format("prepare timed out after {} ms", t.def->options().prepare_timeout.count()));
    }
    std::string reason = t.reason;
    // Not here: the decision waits for the disk, and this is the timer thread.
    if (decide_now)
        submit_task(
            t, [this, &t, reason] { decide(t, false, reason); }, nullptr);
}

// Records a vote; true when it settles the decision (the first no, or the
// last yes) and the caller is to make it.
bool Coordinator::vote(Txn& t, std::size_t i, bool yes, std::string reason) {
    Part& p = t.parts[i];
    p.voted = true;
    ++t.votes;
    p.state = yes ? ParticipantState::prepared : ParticipantState::refused;
    if (!yes) p.reason = reason;
    (void)journal_.submit(
        store::AtomicVoteView{t.id, static_cast<std::uint32_t>(i), yes, reason, to_ms(host_.clock().wall_now())});
    if (!yes) {
        if (listening())
            event(EventKind::saga, t, fmt::format("participant {}: preparing->refused", t.names[i]), reason);
        if (t.reason.empty()) t.reason = fmt::format("participant '{}' voted no: {}", t.names[i], reason);
    }
    if (t.deciding) return false;
    if (!yes || t.votes == t.parts.size()) {
        t.deciding = true;
        t.deadline_armed = false;  // decided: the deadline no longer matters
        if (!yes)                  // the others need not finish preparing
            t.stop.request_stop();
        return true;
    }
    return false;
}

void Coordinator::decide(Txn& t, bool commit, std::string reason) {
    Lock lock(mutex_);
    if (!commit && t.reason.empty()) t.reason = reason;
    if (commit) t.reason.clear();
    auto seq = journal_.submit(store::AtomicDecisionView{t.id, commit, commit ? std::string_view{} : t.reason,
                                                         to_ms(host_.clock().wall_now())});
    lock.unlock();
    auto synced = seq ? journal_.sync(*seq) : store::StoreResult<store::Ok>(unexpected(seq.error()));
    lock.lock();
    if (!synced) {
        // Nothing was sent: after a restart with a working store, no durable
        // decision means abort.
        t.stalled = true;
        event(EventKind::alert, t, "stalled", "the store failed: " + synced.error().message);
        host_.log().error("transaction '{}': the decision could not be recorded: {}", t.id, synced.error().message);
        if (t.waiters != 0) changed_.notify_all();
    }
    // One phase runs here, on this worker, after the others are handed out:
    // one hand-off fewer per transaction.
    std::optional<std::size_t> here;
    if (synced) {
        t.decision = commit;
        for (std::size_t i = 0; i < t.parts.size(); ++i) {
            if (!commit && t.parts[i].prepare_running) {
                t.stop.request_stop();  // its abort follows when its prepare returns
                continue;
            }
            const bool defer = !here && !t.parts[i].acked && !t.parts[i].dispatched && t.def;
            dispatch(t, i, defer);
            if (defer) here = i;
        }
        note(t);
    }
    lock.unlock();
    flush_events();
    if (synced) journal_.maybe_snapshot();  // cheap unless the log has grown past the threshold; not under mutex_
    if (here) run_phase(t, *here);
}

void Coordinator::dispatch(Txn& t, std::size_t i, bool defer) {
    Part& p = t.parts[i];
    if (p.acked || p.dispatched || !t.decision || !t.def) return;
    if (p.state != ParticipantState::commit_stalled)  // stays stalled (after a restart) until it acknowledges
        p.state = *t.decision ? ParticipantState::committing : ParticipantState::aborting;
    if (defer) {
        p.dispatched = true;
        return;
    }
    submit_task(
        t, [&t, i] { t.coordinator->run_phase(t, i); }, &p.dispatched);
}

void Coordinator::run_phase(Txn& t, std::size_t i) {
    Lock lock(mutex_);
    Part& p = t.parts[i];
    if (stopping_) {
        p.dispatched = false;
        return;
    }
    const bool commit = *t.decision;
    const std::uint32_t attempt = ++p.attempts;
    const Participant& who = t.def->participants()[i];
    lock.unlock();

    Context ctx(t.id, who.name, commit ? Phase::commit : Phase::abort, attempt, t.data, {});
    std::optional<std::string> error;
    try {
        (commit ? who.commit : who.abort)(ctx);
    } catch (...) {
        error = what_of(std::current_exception());
    }

    lock.lock();
    const auto now = host_.clock().wall_now();
    std::optional<std::uint64_t> stall_seq;
    if (!error) {
        p.dispatched = false;
        p.acked = true;
        ++t.acks;
        const auto before = p.state;
        p.state = commit ? ParticipantState::committed : ParticipantState::aborted;
        // Not synced: a lost ack only means the phase is sent once more after a crash.
        (void)journal_.submit(store::AtomicAckView{t.id, static_cast<std::uint32_t>(i), attempt, to_ms(now)});
        if (listening())
            event(EventKind::saga, t,
                  fmt::format("participant {}: {}->{}", t.names[i], to_string(before), to_string(p.state)), {});
    } else {
        p.last_error = std::move(*error);
        if (!p.first_failure) p.first_failure = now;
        const Options& o = t.def->options();
        const bool too_long = o.stall_after && now - *p.first_failure >= *o.stall_after;
        if (commit && !p.alerted && (attempt >= o.stall_after_attempts || too_long)) {
            p.alerted = true;
            p.state = ParticipantState::commit_stalled;
            // Written so a restart still shows it stalled; synced below, outside the lock.
            if (auto seq = journal_.submit(
                    store::AtomicStalled{t.id, static_cast<std::uint32_t>(i), attempt, p.last_error, to_ms(now)}))
                stall_seq = *seq;
            event(EventKind::alert, t, fmt::format("commit_stalled: participant {}", t.names[i]), p.last_error);
            host_.log().error(
                "transaction '{}': participant '{}' failed its commit {} times (last: {}); still retrying", t.id,
                t.names[i], attempt, p.last_error);
        }
        if (metrics_.retries) metrics_.retries->inc();
        const auto delay = o.phase_retry.base_delay(attempt);
        host_.call_at(host_.clock().steady_now() + delay, [this, &t, i] {
            const Lock relock(mutex_);
            retry_phase(t, i);
        });
    }
    note(t);
    lock.unlock();
    flush_events();
    if (stall_seq) (void)journal_.sync(*stall_seq);
}

void Coordinator::retry_phase(Txn& t, std::size_t i) {
    Part& p = t.parts[i];
    if (stopping_) {
        p.dispatched = false;
        return;
    }
    submit_task(
        t, [&t, i] { t.coordinator->run_phase(t, i); }, &p.dispatched);
}

}  // namespace txflow::atomic
