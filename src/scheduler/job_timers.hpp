#pragma once
// The armed jobs, by deadline.

#include "scheduler/job_state.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace txflow {

// The armed jobs: a binary min-heap of {deadline, record}, each record keeping
// its own position (heap_pos), so cancel removes the entry at once (O(log n))
// and the heap holds no dead entries: 16 B per armed job and no slot table.
// (txflow::TimerHeap, the general-purpose handle-based heap, costs 32-48 B per
// timer: bytes_per_job has no room for that next to the record.) Equal
// deadlines fire in arming order: timer_seq, compared modulo 2^32, which is
// exact while tied timers were armed fewer than 2^31 arms apart.
class JobTimers {
public:
    [[nodiscard]] bool empty() const { return heap_.empty(); }
    [[nodiscard]] std::optional<SteadyTime> next_due() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().due;
    }
    // j must not be armed.
    void add(JobState& j, SteadyTime due) {
        if (heap_.size() >= JobState::kNotArmed) throw std::length_error("txflow: too many armed jobs");
        heap_.push_back(Entry{due, &j});  // may throw: nothing changed yet
        j.timer_seq = next_seq_++;
        sift_up(heap_.size() - 1);
    }
    // j must be armed.
    void cancel(JobState& j) { remove_at(j.heap_pos); }
    // The earliest job due at `now`, disarmed; nullptr if none.
    JobState* pop_due(SteadyTime now) {
        if (heap_.empty() || now < heap_.front().due) return nullptr;
        JobState* j = heap_.front().job;
        remove_at(0);
        return j;
    }

private:
    struct Entry {
        SteadyTime due;
        JobState* job;
    };
    static bool before(const Entry& a, const Entry& b) {
        if (a.due != b.due) return a.due < b.due;
        return static_cast<std::int32_t>(a.job->timer_seq - b.job->timer_seq) < 0;
    }
    void put(std::size_t pos, const Entry& e) {
        heap_[pos] = e;
        e.job->heap_pos = static_cast<std::uint32_t>(pos);
    }
    void remove_at(std::size_t pos) {
        heap_[pos].job->heap_pos = JobState::kNotArmed;
        const Entry last = heap_.back();
        heap_.pop_back();
        if (pos == heap_.size()) return;
        put(pos, last);
        if (pos > 0 && before(last, heap_[(pos - 1) / 2])) sift_up(pos);
        else sift_down(pos);
    }
    void sift_up(std::size_t pos) {
        const Entry e = heap_[pos];
        while (pos > 0) {
            const std::size_t parent = (pos - 1) / 2;
            if (!before(e, heap_[parent])) break;
            put(pos, heap_[parent]);
            pos = parent;
        }
        put(pos, e);
    }
    void sift_down(std::size_t pos) {
        const Entry e = heap_[pos];
        const std::size_t n = heap_.size();
        for (;;) {
            std::size_t child = 2 * pos + 1;
            if (child >= n) break;
            if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
            if (!before(heap_[child], e)) break;
            put(pos, heap_[child]);
            pos = child;
        }
        put(pos, e);
    }

    std::vector<Entry> heap_;
    std::uint32_t next_seq_ = 0;
};

}  // namespace txflow
