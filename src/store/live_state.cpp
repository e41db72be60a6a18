#include "store/live_state.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "store/codec.hpp"

namespace txflow::store {

namespace {

using codec::Reader;
using codec::Writer;

// 2 added the atomic transactions at the end; every older version is still read.
// 3: job checkpoints after the atomics; 4: saga traces after the checkpoints;
// 5: stalled participants (atomic_stalled records) after the traces;
// 6: the waiting retries' traces (retry_trace records) after the stalled.
constexpr std::uint8_t kSnapshotVersion = 6;

saga::State read_state(Reader& in, bool& valid) {
    const auto v = in.u8();
    if (v >= saga::kStateCount) valid = false;
    return static_cast<saga::State>(v);
}

std::uint32_t u32(Reader& in) {
    const auto v = in.varint();
    return v <= UINT32_MAX ? static_cast<std::uint32_t>(v) : UINT32_MAX;
}

template <class R>
bool decode_or_explain(std::string_view payload, R& r, std::string* error) {
    if (decode(payload, r)) return true;
    if (error) *error = fmt::format("a {} record does not decode", to_string(R::type));
    return false;
}

bool no_saga(std::string_view id, RecordType type, std::string* error) {
    if (error) *error = fmt::format("a {} record names saga '{}', which was never created", to_string(type), id);
    return false;
}

// The saga a step record names, if it has that step; null (and why) if not.
template <class Sagas>
LiveSaga* saga_with_step(Sagas& sagas, std::string_view id, std::uint32_t step, RecordType type, std::string* error) {
    auto it = sagas.find(id);
    if (it == sagas.end()) return no_saga(id, type, error), nullptr;
    if (step >= it->second.steps.size()) {
        if (error)
            *error = fmt::format("a {} record names step {} of saga '{}', which has {}", to_string(type), step, id,
                                 it->second.steps.size());
        return nullptr;
    }
    return &it->second;
}

LiveAtomic* atomic_with(std::map<std::string, LiveAtomic, std::less<>>& atomics, std::string_view id,
                        std::uint32_t participant, RecordType type, std::string* error) {
    auto it = atomics.find(id);
    if (it == atomics.end()) {
        if (error) *error = fmt::format("a {} record names transaction '{}', which never began", to_string(type), id);
        return nullptr;
    }
    if (participant >= it->second.participants.size()) {
        if (error)
            *error = fmt::format("a {} record names participant {} of transaction '{}', which has {}", to_string(type),
                                 participant, id, it->second.participants.size());
        return nullptr;
    }
    return &it->second;
}

void encode_atomic(Writer& w, const LiveAtomic& a) {
    w.str(a.id);
    w.str(a.definition);
    w.str(a.data);
    w.u8(static_cast<std::uint8_t>(a.decision));
    w.str(a.reason);
    w.svarint(a.created_ms);
    w.svarint(a.updated_ms);
    w.varint(a.participants.size());
    for (std::size_t i = 0; i < a.participants.size(); ++i) {
        w.str(a.participants[i]);
        w.u8(static_cast<std::uint8_t>(a.votes[i]));
        w.str(a.reasons[i]);
        w.u8(a.acked[i] ? 1 : 0);
    }
}

bool decode_atomic(Reader& in, std::size_t bound, LiveAtomic& a) {
    a.id = in.str();
    a.definition = in.str();
    a.data = in.str();
    const auto decision = in.u8();
    a.decision = static_cast<LiveAtomic::Decision>(decision);
    a.reason = in.str();
    a.created_ms = in.svarint();
    a.updated_ms = in.svarint();
    const auto n = in.varint();
    if (decision > 2 || n > bound) return false;
    for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
        a.participants.emplace_back(in.str());
        const auto vote = in.u8();
        if (vote > 2) return false;
        a.votes.push_back(static_cast<LiveAtomic::Vote>(vote));
        a.reasons.emplace_back(in.str());
        const auto acked = in.u8();
        if (acked > 1) return false;
        a.acked.push_back(acked == 1);
    }
    a.stalled_attempts.assign(a.participants.size(), 0);
    a.last_errors.assign(a.participants.size(), {});
    return in.ok();
}

}  // namespace

bool LiveState::apply(std::uint16_t type_number, std::string_view payload, std::string* error) {
    const auto type = static_cast<RecordType>(type_number);
    switch (type) {
        case RecordType::saga_created: {
            SagaCreated r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveSaga s;
            s.id = r.id;
            s.definition = std::move(r.definition);
            s.data = std::move(r.data);
            s.created_ms = s.updated_ms = r.at_ms;
            s.steps.resize(r.steps.size());
            s.step_names = std::move(r.steps);
            sagas[r.id] = std::move(s);
            return true;
        }
        case RecordType::saga_state: {
            SagaStateChange r;
            if (!decode_or_explain(payload, r, error)) return false;
            auto it = sagas.find(std::string_view(r.id));
            if (it == sagas.end()) return no_saga(r.id, type, error);
            auto& s = it->second;
            if (s.state == saga::State::compensation_failed && r.to == saga::State::compensated) s.resolution = r.error;
            else if (!r.error.empty()) s.error = std::move(r.error);
            s.state = r.to;
            s.updated_ms = r.at_ms;
            return true;
        }
        case RecordType::step_state: {
            // The hot path (two records a step): read in place, no copies but the kept ones.
            StepStateView r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveSaga* s = saga_with_step(sagas, r.id, r.step, type, error);
            if (!s) return false;
            auto& st = s->steps[r.step];
            if (r.to == saga::State::running) {
                st.attempts = std::max<std::uint32_t>(st.attempts, 1);
                if (st.started_ms == 0) st.started_ms = r.at_ms;
            } else if (r.to == saga::State::compensating) {
                ++st.compensation_attempts;
            } else {
                st.finished_ms = r.at_ms;
            }
            if (!r.error.empty()) st.last_error.assign(r.error);
            st.duration_ns += r.duration_ns;
            st.state = r.to;
            if (r.data) s->data.assign(*r.data);
            s->updated_ms = r.at_ms;
            return true;
        }
        case RecordType::step_attempt: {
            StepAttemptView r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveSaga* s = saga_with_step(sagas, r.id, r.step, type, error);
            if (!s) return false;
            auto& st = s->steps[r.step];
            if (r.compensation) ++st.compensation_attempts;
            else st.attempts = r.attempt;
            if (!r.error.empty()) st.last_error.assign(r.error);
            st.duration_ns += r.duration_ns;
            s->updated_ms = r.at_ms;
            return true;
        }
        case RecordType::saga_removed: {
            SagaRemoved r;
            if (!decode_or_explain(payload, r, error)) return false;
            auto it = sagas.find(std::string_view(r.id));
            if (it == sagas.end()) return no_saga(r.id, type, error);
            sagas.erase(it);
            return true;
        }
        case RecordType::saga_trace: {
            SagaTrace r;
            if (!decode_or_explain(payload, r, error)) return false;
            auto it = sagas.find(r.id);
            if (it == sagas.end()) return no_saga(r.id, type, error);
            it->second.traceparent = std::move(r.traceparent);
            it->second.tracestate = std::move(r.tracestate);
            it->second.trace_parent_span = std::move(r.parent_span);
            return true;
        }
        case RecordType::saga_data: {
            SagaData r;
            if (!decode_or_explain(payload, r, error)) return false;
            auto it = sagas.find(r.id);
            if (it == sagas.end()) return no_saga(r.id, type, error);
            it->second.data = std::move(r.data);
            return true;
        }
        case RecordType::job_fired: {
            JobFired r;
            if (!decode_or_explain(payload, r, error)) return false;
            auto& last = last_fire_ms[r.job];
            last = std::max(last, r.fire_ms);
            return true;
        }
        case RecordType::retry_armed: {
            RetryArmed r;
            if (!decode_or_explain(payload, r, error)) return false;
            retries[r.retry] = std::move(r);
            return true;
        }
        case RecordType::retry_done: {
            RetryDone r;
            if (!decode_or_explain(payload, r, error)) return false;
            retries.erase(r.retry);
            retry_traces.erase(r.retry);
            return true;
        }
        case RecordType::retry_trace: {
            RetryTrace r;
            if (!decode_or_explain(payload, r, error)) return false;
            if (!retries.contains(r.retry)) {
                if (error) *error = fmt::format("a retry_trace record names retry {}, which is not waiting", r.retry);
                return false;
            }
            retry_traces[r.retry] = std::move(r);
            return true;
        }
        case RecordType::dead_letter: {
            DeadLetterAdded r;
            if (!decode_or_explain(payload, r, error)) return false;
            dead_letters[r.id] = std::move(r);
            return true;
        }
        case RecordType::dead_letter_removed: {
            DeadLetterRemoved r;
            if (!decode_or_explain(payload, r, error)) return false;
            dead_letters.erase(r.id);
            return true;
        }
        case RecordType::atomic_begin: {
            AtomicBegin r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveAtomic a;
            a.id = r.id;
            a.definition = std::move(r.definition);
            a.data = std::move(r.data);
            a.votes.assign(r.participants.size(), LiveAtomic::Vote::none);
            a.reasons.assign(r.participants.size(), {});
            a.acked.assign(r.participants.size(), false);
            a.stalled_attempts.assign(r.participants.size(), 0);
            a.last_errors.assign(r.participants.size(), {});
            a.participants = std::move(r.participants);
            a.created_ms = a.updated_ms = r.at_ms;
            atomics[r.id] = std::move(a);
            return true;
        }
        case RecordType::atomic_vote: {
            AtomicVoteView r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveAtomic* a = atomic_with(atomics, r.id, r.participant, type, error);
            if (!a) return false;
            a->votes[r.participant] = r.yes ? LiveAtomic::Vote::yes : LiveAtomic::Vote::no;
            a->reasons[r.participant].assign(r.reason);
            a->updated_ms = r.at_ms;
            return true;
        }
        case RecordType::atomic_decision: {
            AtomicDecisionView r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveAtomic* a = atomic_with(atomics, r.id, 0, type, error);
            if (!a) return false;
            if (a->decision != LiveAtomic::Decision::none) {
                if (error) *error = fmt::format("transaction '{}' is decided twice", r.id);
                return false;
            }
            a->decision = r.commit ? LiveAtomic::Decision::commit : LiveAtomic::Decision::abort;
            a->reason.assign(r.reason);
            a->updated_ms = r.at_ms;
            return true;
        }
        case RecordType::job_checkpoint: {
            JobCheckpoint r;
            if (!decode_or_explain(payload, r, error)) return false;
            checkpoints[r.job] = std::move(r.data);
            return true;
        }
        case RecordType::job_checkpoint_cleared: {
            JobCheckpointCleared r;
            if (!decode_or_explain(payload, r, error)) return false;
            checkpoints.erase(r.job);
            return true;
        }
        case RecordType::atomic_ack: {
            AtomicAckView r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveAtomic* a = atomic_with(atomics, r.id, r.participant, type, error);
            if (!a) return false;
            if (a->decision == LiveAtomic::Decision::none) {
                if (error)
                    *error = fmt::format("an atomic_ack record for transaction '{}' comes before its decision", r.id);
                return false;
            }
            a->acked[r.participant] = true;
            a->updated_ms = r.at_ms;
            return true;
        }
        case RecordType::atomic_stalled: {
            AtomicStalled r;
            if (!decode_or_explain(payload, r, error)) return false;
            LiveAtomic* a = atomic_with(atomics, r.id, r.participant, type, error);
            if (!a) return false;
            a->stalled_attempts[r.participant] = std::max<std::uint32_t>(r.attempts, 1);
            a->last_errors[r.participant] = std::move(r.error);
            a->updated_ms = r.at_ms;
            return true;
        }
        case RecordType::atomic_removed: {
            AtomicRemoved r;
            if (!decode_or_explain(payload, r, error)) return false;
            atomics.erase(r.id);  // forgetting twice is harmless
            return true;
        }
    }
    if (error) *error = fmt::format("unknown record type {}", type_number);
    return false;
}

std::string LiveState::encode() const {
    std::string out;
    Writer w(out);
    w.u8(kSnapshotVersion);
    w.varint(sagas.size());
    for (const auto& [id, s] : sagas) {
        w.str(s.id);
        w.str(s.definition);
        w.u8(static_cast<std::uint8_t>(s.state));
        w.str(s.data);
        w.str(s.error);
        w.str(s.resolution);
        w.svarint(s.created_ms);
        w.svarint(s.updated_ms);
        w.varint(s.steps.size());
        for (std::size_t i = 0; i < s.steps.size(); ++i) {
            const auto& st = s.steps[i];
            w.str(i < s.step_names.size() ? s.step_names[i] : std::string_view{});
            w.u8(static_cast<std::uint8_t>(st.state));
            w.varint(st.attempts);
            w.varint(st.compensation_attempts);
            w.svarint(st.started_ms);
            w.svarint(st.finished_ms);
            w.svarint(st.duration_ns);
            w.str(st.last_error);
        }
    }
    w.varint(last_fire_ms.size());
    for (const auto& [job, ms] : last_fire_ms) {
        w.str(job);
        w.svarint(ms);
    }
    w.varint(retries.size());
    for (const auto& [id, r] : retries) w.str(store::encode(r));
    w.varint(dead_letters.size());
    for (const auto& [id, d] : dead_letters) w.str(store::encode(d));
    w.varint(atomics.size());
    for (const auto& [id, a] : atomics) encode_atomic(w, a);
    w.varint(checkpoints.size());
    for (const auto& [job, data] : checkpoints) {
        w.str(job);
        w.str(data);
    }
    std::vector<const LiveSaga*> traced;
    for (const auto& [id, s] : sagas)
        if (!s.traceparent.empty()) traced.push_back(&s);
    w.varint(traced.size());
    for (const LiveSaga* s : traced)
        w.str(store::encode(SagaTrace{s->id, s->traceparent, s->tracestate, s->trace_parent_span}));
    std::vector<AtomicStalled> stalled;
    for (const auto& [id, a] : atomics)
        for (std::size_t i = 0; i < a.stalled_attempts.size(); ++i)
            if (a.stalled_attempts[i] != 0)
                stalled.push_back(
                    {a.id, static_cast<std::uint32_t>(i), a.stalled_attempts[i], a.last_errors[i], a.updated_ms});
    w.varint(stalled.size());
    for (const auto& r : stalled) w.str(store::encode(r));
    w.varint(retry_traces.size());
    for (const auto& [id, r] : retry_traces) w.str(store::encode(r));
    return out;
}

std::optional<LiveState> LiveState::decode(std::string_view snapshot) {
    Reader in(snapshot);
    const auto version = in.u8();
    if (version < 1 || version > kSnapshotVersion) return std::nullopt;
    LiveState state;
    bool valid = true;
    const auto bound = snapshot.size();  // every element takes at least one byte
    const auto sagas = in.varint();
    if (sagas > bound) return std::nullopt;
    for (std::uint64_t i = 0; i < sagas && in.ok(); ++i) {
        LiveSaga s;
        s.id = in.str();
        s.definition = in.str();
        s.state = read_state(in, valid);
        s.data = in.str();
        s.error = in.str();
        s.resolution = in.str();
        s.created_ms = in.svarint();
        s.updated_ms = in.svarint();
        const auto steps = in.varint();
        if (steps > bound) return std::nullopt;
        for (std::uint64_t k = 0; k < steps && in.ok(); ++k) {
            s.step_names.emplace_back(in.str());
            LiveStep st;
            st.state = read_state(in, valid);
            st.attempts = u32(in);
            st.compensation_attempts = u32(in);
            st.started_ms = in.svarint();
            st.finished_ms = in.svarint();
            st.duration_ns = in.svarint();
            st.last_error = in.str();
            s.steps.push_back(std::move(st));
        }
        auto id = s.id;
        state.sagas.emplace(std::move(id), std::move(s));
    }
    const auto fires = in.varint();
    if (fires > bound) return std::nullopt;
    for (std::uint64_t i = 0; i < fires && in.ok(); ++i) {
        std::string job(in.str());
        state.last_fire_ms[std::move(job)] = in.svarint();
    }
    const auto retries = in.varint();
    if (retries > bound) return std::nullopt;
    for (std::uint64_t i = 0; i < retries && in.ok(); ++i) {
        RetryArmed r;
        if (!store::decode(in.str(), r)) return std::nullopt;
        state.retries[r.retry] = std::move(r);
    }
    const auto dead = in.varint();
    if (dead > bound) return std::nullopt;
    for (std::uint64_t i = 0; i < dead && in.ok(); ++i) {
        DeadLetterAdded d;
        if (!store::decode(in.str(), d)) return std::nullopt;
        state.dead_letters[d.id] = std::move(d);
    }
    if (version >= 2) {
        const auto atomics = in.varint();
        if (atomics > bound) return std::nullopt;
        for (std::uint64_t i = 0; i < atomics && in.ok(); ++i) {
            LiveAtomic a;
            if (!decode_atomic(in, bound, a)) return std::nullopt;
            auto id = a.id;
            state.atomics.emplace(std::move(id), std::move(a));
        }
    }
    if (version >= 3) {
        const auto checkpoints = in.varint();
        if (checkpoints > bound) return std::nullopt;
        for (std::uint64_t i = 0; i < checkpoints && in.ok(); ++i) {
            std::string job(in.str());
            state.checkpoints[std::move(job)] = std::string(in.str());
        }
    }
    if (version >= 4) {
        const auto traced = in.varint();
        if (traced > bound) return std::nullopt;
        for (std::uint64_t i = 0; i < traced && in.ok(); ++i)
            if (!state.apply(static_cast<std::uint16_t>(RecordType::saga_trace), in.str())) return std::nullopt;
    }
    if (version >= 5) {
        const auto stalled = in.varint();
        if (stalled > bound) return std::nullopt;
        for (std::uint64_t i = 0; i < stalled && in.ok(); ++i)
            if (!state.apply(static_cast<std::uint16_t>(RecordType::atomic_stalled), in.str())) return std::nullopt;
    }
    if (version >= 6) {
        const auto traces = in.varint();
        if (traces > bound) return std::nullopt;
        for (std::uint64_t i = 0; i < traces && in.ok(); ++i)
            if (!state.apply(static_cast<std::uint16_t>(RecordType::retry_trace), in.str())) return std::nullopt;
    }
    if (!valid || !in.ok() || !in.done()) return std::nullopt;
    return state;
}

}  // namespace txflow::store
