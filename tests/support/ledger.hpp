#pragma once
// A downstream service for saga tests: it applies effects and their
// reversals by idempotency key, as a real payment service would, and keeps
// counts so a test can check that every effect was undone exactly when it
// should be and that nothing ran twice under different keys.

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace txflow::test {

class Ledger {
public:
    struct Entry {
        int applied = 0;   // apply() calls with this key (duplicates included)
        int reverted = 0;  // revert() calls with this key
        long balance = 0;  // the net effect: +amount once applied, back to 0 once reverted
    };

    // Idempotent: a second apply with the same key changes nothing.
    void apply(std::string_view key, long amount) {
        const std::lock_guard lock(mutex_);
        auto& e = entries_[std::string(key)];
        ++e.applied;
        if (e.applied == 1) e.balance += amount;
        order_.emplace_back("+" + std::string(key));
    }
    // Reverting an effect that never happened is allowed and changes nothing
    // (a compensation may run for a step interrupted before it acted).
    void revert(std::string_view key, long amount) {
        const std::lock_guard lock(mutex_);
        auto& e = entries_[std::string(key)];
        ++e.reverted;
        if (e.reverted == 1 && e.applied > 0) e.balance -= amount;
        order_.emplace_back("-" + std::string(key));
    }

    std::map<std::string, Entry> entries() const {
        const std::lock_guard lock(mutex_);
        return entries_;
    }
    std::vector<std::string> order() const {
        const std::lock_guard lock(mutex_);
        return order_;
    }
    long total() const {
        const std::lock_guard lock(mutex_);
        long sum = 0;
        for (const auto& [key, e] : entries_) sum += e.balance;
        return sum;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
    std::vector<std::string> order_;
};

}  // namespace txflow::test
