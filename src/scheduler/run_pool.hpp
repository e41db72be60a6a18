#pragma once
// Runs on their way to a worker, at stable addresses.

#include "scheduler/runs.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace txflow {

// A queued run's task captures {Impl*, PendingRun*}: 16 trivially copyable
// bytes, which std::function keeps inline, so handing a run to the executor
// allocates nothing. Slots come in chunks that live as long as the pool; once
// the number of runs on their way has reached its peak, take() and give()
// allocate nothing either. Guarded by the scheduler's mutex.
class RunPool {
public:
    PendingRun* take(const PendingRun& r) {
        if (free_.empty()) grow();
        PendingRun* p = free_.back();
        free_.pop_back();
        *p = r;
        p->queued = true;
        return p;
    }
    void give(PendingRun* p) noexcept {  // never allocates: capacity covers every slot
        p->queued = false;
        free_.push_back(p);
    }
    // The first run on its way (taken, not given back) that `match` accepts,
    // or null. O(slots): for operators' rare calls (Scheduler::cancel_run), not the hot path.
    template <class Match>
    PendingRun* find_queued(Match match) {
        for (std::size_t c = 0; c < chunks_.size(); ++c)
            for (std::size_t i = 0; i < chunk_sizes_[c]; ++i)
                if (PendingRun& p = chunks_[c][i]; p.queued && match(p)) return &p;
        return nullptr;
    }

private:
    void grow() {
        const std::size_t n = chunks_.empty() ? 64 : 2 * chunk_total_;  // doubling: O(log peak) chunks
        free_.reserve(chunk_total_ + n);
        chunks_.push_back(std::make_unique<PendingRun[]>(n));
        chunk_sizes_.push_back(n);
        for (std::size_t i = 0; i < n; ++i) free_.push_back(&chunks_.back()[i]);
        chunk_total_ += n;
    }

    std::vector<std::unique_ptr<PendingRun[]>> chunks_;
    std::vector<std::size_t> chunk_sizes_;
    std::vector<PendingRun*> free_;
    std::size_t chunk_total_ = 0;
};

}  // namespace txflow
