#pragma once
// Participants for the atomic transaction tests: every call is written down
// (participant, phase, idempotency key, attempt), and a commit can be told to
// fail a number of times first. Thread-safe: participants run on workers;
// the test reads after the scheduler is idle.

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "txflow/saga/atomic.hpp"

namespace txflow::test {

struct AtomicCall {
    std::string participant;
    atomic::Phase phase;
    std::string key;
    std::uint32_t attempt;
};

class AtomicLedger {
public:
    void record(const atomic::Context& ctx) {
        const std::lock_guard lock(mutex_);
        calls_.push_back({std::string(ctx.participant()), ctx.phase(), ctx.idempotency_key(), ctx.attempt()});
    }
    // The next `n` commits of `participant` throw.
    void fail_commits(const std::string& participant, int n) {
        const std::lock_guard lock(mutex_);
        failures_[participant] = n;
    }
    void commit(const atomic::Context& ctx) {
        record(ctx);
        const std::lock_guard lock(mutex_);
        auto& left = failures_[std::string(ctx.participant())];
        if (left > 0) {
            --left;
            throw std::runtime_error("commit refused (" + std::to_string(left) + " more)");
        }
    }
    [[nodiscard]] std::vector<AtomicCall> calls() const {
        const std::lock_guard lock(mutex_);
        return calls_;
    }
    [[nodiscard]] std::vector<AtomicCall> calls(const std::string& participant, atomic::Phase phase) const {
        std::vector<AtomicCall> out;
        for (auto& c : calls())
            if (c.participant == participant && c.phase == phase) out.push_back(c);
        return out;
    }
    [[nodiscard]] std::size_t count(atomic::Phase phase) const {
        std::size_t n = 0;
        for (auto& c : calls()) n += c.phase == phase ? 1 : 0;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<AtomicCall> calls_;
    std::map<std::string, int> failures_;
};

inline atomic::Vote vote_yes(atomic::Context&) {
    return atomic::Vote::commit();
}

// Adds a participant whose commit and abort go to the ledger.
inline Atomic with_participant(Atomic a, const std::string& name, AtomicLedger& ledger,
                               atomic::PrepareFunction prepare = vote_yes) {
    return std::move(a)
        .participant(name)
        .prepare([&ledger, prepare = std::move(prepare)](atomic::Context& ctx) {
            ledger.record(ctx);
            return prepare(ctx);
        })
        .commit([&ledger](atomic::Context& ctx) { ledger.commit(ctx); })
        .abort([&ledger](atomic::Context& ctx) { ledger.record(ctx); });
}

}  // namespace txflow::test
