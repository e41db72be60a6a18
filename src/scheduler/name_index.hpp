#pragma once
// The job records by name.

#include "scheduler/job_state.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace txflow {

// The name index: open addressing with linear probing over record pointers
// (8 B a slot) plus a parallel byte of hash tag per slot, so a probe compares
// names only on a tag match. Power-of-two capacity, load <= 0.8 (the tags
// keep the longer probe runs cheap); erase shifts back, so no tombstones.
// Owns nothing: the scheduler destroys the records.
class NameIndex {
public:
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] JobState* find(std::string_view name) const {
        if (size_ == 0) return nullptr;
        const std::size_t h = hash(name);
        for (std::size_t i = h & mask(); slots_[i] != nullptr; i = (i + 1) & mask())
            if (tags_[i] == tag(h) && slots_[i]->name() == name) return slots_[i];
        return nullptr;
    }
    // j's name must not be in the index.
    void insert(JobState* j) {
        if ((size_ + 1) * 5 > slots_.size() * 4) grow();
        place(j, hash(j->name()));
        ++size_;
    }
    void erase(const JobState* j) {
        const std::size_t h = hash(j->name());
        std::size_t i = h & mask();
        while (slots_[i] != j) i = (i + 1) & mask();
        // Backward-shift deletion: move later entries of the run into the hole
        // when their home slot does not lie cyclically in (hole, entry].
        for (std::size_t k = (i + 1) & mask(); slots_[k] != nullptr; k = (k + 1) & mask()) {
            const std::size_t home = hash(slots_[k]->name()) & mask();
            if (((k - home) & mask()) >= ((k - i) & mask())) {
                slots_[i] = slots_[k];
                tags_[i] = tags_[k];
                i = k;
            }
        }
        slots_[i] = nullptr;
        --size_;
    }
    template <class F>
    void for_each(F&& f) const {
        for (JobState* j : slots_)
            if (j != nullptr) f(j);
    }

private:
    static std::size_t hash(std::string_view name) { return std::hash<std::string_view>{}(name); }
    static std::uint8_t tag(std::size_t h) { return static_cast<std::uint8_t>(h >> (8 * sizeof(std::size_t) - 8)); }
    [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }
    void place(JobState* j, std::size_t h) {
        std::size_t i = h & mask();
        while (slots_[i] != nullptr) i = (i + 1) & mask();
        slots_[i] = j;
        tags_[i] = tag(h);
    }
    void grow() {
        std::vector<JobState*> old = std::move(slots_);
        const std::size_t n = old.empty() ? 16 : 2 * old.size();
        slots_.assign(n, nullptr);  // may throw: old is restored below
        try {
            tags_.assign(n, 0);
        } catch (...) {
            slots_ = std::move(old);
            throw;
        }
        for (JobState* j : old)
            if (j != nullptr) place(j, hash(j->name()));
    }

    std::vector<JobState*> slots_;  // nullptr: empty
    std::vector<std::uint8_t> tags_;
    std::size_t size_ = 0;
};

}  // namespace txflow
