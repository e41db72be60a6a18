// The coordinator's lifecycle, recovery and listings; the protocol itself is
// in atomic_protocol.cpp.

#include "saga/atomic_coordinator.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "common/wall_ms.hpp"
#include "saga/instance.hpp"
#include "txflow/observe/metrics.hpp"

namespace txflow::atomic {

namespace {

State state_of(const Txn& t) {
    if (!t.decision) return State::preparing;
    if (t.acks == t.parts.size()) return *t.decision ? State::committed : State::aborted;
    if (!*t.decision) return State::aborting;
    for (const auto& p : t.parts)
        if (p.state == ParticipantState::commit_stalled) return State::commit_stalled;
    return State::committing;
}

}  // namespace

Coordinator::Coordinator(saga::EngineHost& host, store::Journal& journal) : host_(host), journal_(journal) {}

void Coordinator::register_definition(const DefinitionPtr& def) {
    if (!def) throw std::invalid_argument("register_atomic: no definition");
    {
        const Lock lock(mutex_);
        auto& known = definitions_[def->name()];
        if (known == def) return;  // start_atomic registers on every call: keep that O(1)
        known = def;
        // Only recovered transactions wait for a definition.
        std::erase_if(awaiting_definition_, [&](Txn* t) {
            if (t->definition != def->name()) return false;
            if (def->participants().size() != t->parts.size()) {
                host_.log().error(
                    "transaction '{}': definition '{}' now has {} participants, the log {}; left as it is", t->id,
                    def->name(), def->participants().size(), t->parts.size());
                return false;
            }
            t->def = def;
            if (started_ && !stopping_) launch(*t);
            return true;
        });
    }
    flush_events();
}

std::string Coordinator::new_id(std::string_view definition) {
    for (;;) {
        auto id = fmt::format("{}-{:x}-{}", definition, to_ms(host_.clock().wall_now()), ++next_id_);
        if (txns_.count(id) == 0) return id;
    }
}

Coordinator::Started Coordinator::start(const DefinitionPtr& def, nlohmann::json input, std::string key) {
    if (!def) throw std::invalid_argument("start_atomic: no definition");
    register_definition(def);
    Lock lock(mutex_);
    if (!key.empty() && txns_.count(key) != 0) return {key, false};
    auto owned = std::make_shared<Txn>();
    Txn& t = *owned;
    t.coordinator = this;
    t.id = key.empty() ? new_id(def->name()) : std::move(key);
    t.definition = def->name();
    t.def = def;
    t.data = std::move(input);
    t.created = t.updated = host_.clock().wall_now();
    for (const auto& p : def->participants()) t.names.push_back(p.name);
    t.parts.resize(t.names.size());
    const store::AtomicBegin record{t.id, t.definition, t.names, saga::data_text(t.data), to_ms(t.created)};
    auto seq = journal_.submit(record);
    if (!seq)
        throw std::runtime_error(fmt::format("transaction '{}': the store refused it: {}", t.id, seq.error().message));
    const std::string id = t.id;
    txns_.emplace(id, std::move(owned));
    if (listening()) event(EventKind::saga, t, "preparing", {});
    lock.unlock();
    // Durable before any prepare: after a crash, recovery must know to abort
    // whatever a participant may have prepared.
    if (auto synced = journal_.sync(*seq); !synced) {
        lock.lock();
        t.stalled = true;
        event(EventKind::alert, t, "stalled", "the store failed: " + synced.error().message);
        lock.unlock();
        flush_events();
        return {id, true};
    }
    lock.lock();
    if (started_ && !stopping_) launch(t);
    lock.unlock();
    flush_events();
    return {id, true};
}

void Coordinator::recover(const store::LiveState& state) {
    const Lock lock(mutex_);
    for (const auto& [id, a] : state.atomics) {
        auto t = std::make_shared<Txn>();
        t->coordinator = this;
        t->id = a.id;
        t->definition = a.definition;
        t->data = nlohmann::json::parse(a.data, nullptr, false);
        if (t->data.is_discarded()) t->data = a.data;
        t->names = a.participants;
        t->parts.resize(a.participants.size());
        t->recovered = true;
        t->reason = a.reason;
        t->created = from_ms(a.created_ms);
        t->updated = from_ms(a.updated_ms);
        using D = store::LiveAtomic::Decision;
        if (a.decision != D::none) t->decision = a.decision == D::commit;
        t->deciding = t->decision.has_value();
        for (std::size_t i = 0; i < t->parts.size(); ++i) {
            Part& p = t->parts[i];
            p.voted = a.votes[i] != store::LiveAtomic::Vote::none;
            p.reason = a.reasons[i];
            if (p.voted) ++t->votes;
            p.state = a.votes[i] == store::LiveAtomic::Vote::yes  ? ParticipantState::prepared
                      : a.votes[i] == store::LiveAtomic::Vote::no ? ParticipantState::refused
                                                                  : ParticipantState::preparing;
            if (a.acked[i]) {
                p.acked = true;
                p.state = *t->decision ? ParticipantState::committed : ParticipantState::aborted;
                ++t->acks;
            } else if (i < a.stalled_attempts.size() && a.stalled_attempts[i] != 0 && t->decision.value_or(false)) {
                // Still commit_stalled (and still retried): the alert is raised again at launch.
                p.state = ParticipantState::commit_stalled;
                p.attempts = a.stalled_attempts[i];
                p.last_error = a.last_errors[i];
                p.alerted = true;
            }
        }
        t->last_state = state_of(*t);
        awaiting_definition_.push_back(t.get());
        txns_.emplace(id, std::move(t));
    }
}

void Coordinator::on_start() {
    {
        const Lock lock(mutex_);
        if (started_) return;
        started_ = true;
        for (auto& [id, t] : txns_)
            if (t->def) launch(*t);
    }
    flush_events();
}

void Coordinator::on_stop() {
    const Lock lock(mutex_);
    stopping_ = true;
    for (auto& [id, t] : txns_)
        if (std::any_of(t->parts.begin(), t->parts.end(), [](const Part& p) { return p.prepare_running; }))
            t->stop.request_stop();
}

// Sets a transaction going: prepare everyone (new), abort everyone (recovered
// without a decision: presumed abort), or finish the decided phase.
void Coordinator::launch(Txn& t) {
    if (t.launched || t.stalled || is_final(state_of(t))) return;
    t.launched = true;
    if (t.decision) {
        for (std::size_t i = 0; i < t.parts.size(); ++i) {
            const Part& p = t.parts[i];
            if (p.state == ParticipantState::commit_stalled && listening())
                event(EventKind::alert, t, fmt::format("commit_stalled: participant {}", t.names[i]), p.last_error);
            dispatch(t, i);
        }
        note(t);
        return;
    }
    if (t.recovered) {
        t.deciding = true;
        submit_task(
            t, [&t] { t.coordinator->decide(t, false, "no decision before the restart (presumed abort)"); }, nullptr);
        return;
    }
    arm_deadline(t);  // one for all participants: they share the deadline
    for (std::size_t i = 0; i < t.parts.size(); ++i)
        submit_task(
            t, [&t, i] { t.coordinator->prepare(t, i); }, &t.parts[i].prepare_running);
}

void Coordinator::submit_task(Txn& t, std::function<void()> task, bool* flag) {
    if (flag) *flag = true;
    const auto priority = Priority::normal;
    if (!host_.submit(priority, {}, std::move(task))) {
        if (flag) *flag = false;
        host_.log().warn("transaction '{}': a task was refused (stopping); a restart finishes it", t.id);
    }
}

void Coordinator::note(Txn& t) {
    t.updated = host_.clock().wall_now();
    const State now = state_of(t);
    if (now != t.last_state) {
        if (listening())
            event(EventKind::saga, t, fmt::format("{}->{}", to_string(t.last_state), to_string(now)),
                  now == State::aborting || now == State::aborted ? t.reason : std::string{});
        if (now == State::committed && metrics_.committed) metrics_.committed->inc();
        if (now == State::aborted && metrics_.aborted) metrics_.aborted->inc();
        t.last_state = now;
    }
    // A waiter wakes only for the states it waits for (most notes are not).
    if (t.waiters != 0 && (is_final(now) || now == State::commit_stalled)) changed_.notify_all();
}

void Coordinator::event(EventKind kind, const Txn& t, std::string detail, std::string error) {
    if (!listening()) return;
    events_.push_back({kind, t.id, std::move(detail), std::move(error)});
}

void Coordinator::flush_events() {
    if (!listening()) return;  // nothing was queued
    const std::lock_guard delivering(delivery_);
    std::vector<PendingEvent> batch;
    {
        const Lock lock(mutex_);
        batch.swap(events_);
    }
    for (const auto& e : batch) {
        Event ev;
        ev.kind = e.kind;
        ev.job = e.txn;
        ev.detail = e.detail;
        ev.error = e.error;
        host_.emit(ev);
    }
}

void Coordinator::set_metrics(Metrics m) {
    const Lock lock(mutex_);
    metrics_ = m;
}

std::array<std::size_t, kStateCount> Coordinator::count_by_state() const {
    std::array<std::size_t, kStateCount> out{};
    const Lock lock(mutex_);
    for (const auto& [id, t] : txns_) ++out[static_cast<std::size_t>(state_of(*t))];
    return out;
}

bool Coordinator::empty() const {
    const Lock lock(mutex_);
    return txns_.empty();
}

std::size_t Coordinator::purge(WallTime cutoff) {
    std::vector<std::string> gone;
    {
        const Lock lock(mutex_);
        for (const auto& [id, t] : txns_)
            if (is_final(state_of(*t)) && t->updated < cutoff) gone.push_back(id);
        std::erase_if(awaiting_definition_,
                      [&](const Txn* t) { return std::find(gone.begin(), gone.end(), t->id) != gone.end(); });
        for (const auto& id : gone) {
            // Not synced: a lost removal only means it is forgotten again after a restart.
            (void)journal_.submit(store::AtomicRemoved{id});
            txns_.erase(id);
        }
    }
    if (!gone.empty()) journal_.maybe_snapshot();
    return gone.size();
}

Info Coordinator::info_of(const Txn& t) const {
    Info info;
    info.id = t.id;
    info.definition = t.definition;
    info.state = state_of(t);
    info.reason = t.reason;
    info.data = t.data;
    info.created = t.created;
    info.updated = t.updated;
    info.stalled = t.stalled;
    for (std::size_t i = 0; i < t.parts.size(); ++i) {
        const Part& p = t.parts[i];
        info.participants.push_back({t.names[i], p.state, p.reason, p.attempts, p.last_error});
    }
    return info;
}

std::optional<Info> Coordinator::info(std::string_view id) const {
    const Lock lock(mutex_);
    auto it = txns_.find(std::string(id));
    if (it == txns_.end()) return std::nullopt;
    return info_of(*it->second);
}

std::vector<Info> Coordinator::list(std::optional<State> state) const {
    const Lock lock(mutex_);
    std::vector<Info> out;
    for (const auto& [id, t] : txns_)
        if (!state || state_of(*t) == *state) out.push_back(info_of(*t));
    std::sort(out.begin(), out.end(), [](const Info& a, const Info& b) { return a.id < b.id; });
    return out;
}

std::optional<Info> Coordinator::wait(std::string_view id, std::chrono::milliseconds timeout) const {
    Lock lock(mutex_);
    auto it = txns_.find(std::string(id));
    if (it == txns_.end()) return std::nullopt;
    const std::shared_ptr<const Txn> held = it->second;  // purge() may forget it while we wait
    const Txn& t = *held;
    ++t.waiters;
    changed_.wait_for(lock, timeout, [&] {
        const auto s = state_of(t);
        return is_final(s) || s == State::commit_stalled || t.stalled;
    });
    --t.waiters;
    return info_of(t);
}

}  // namespace txflow::atomic
