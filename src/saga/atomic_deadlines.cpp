// The prepare deadlines: a queue of them behind one host timer, armed for the
// earliest that still counts.

#include "saga/atomic_coordinator.hpp"

namespace txflow::atomic {

void Coordinator::arm_deadline(Txn& t) {
    const SteadyTime due = host_.clock().steady_now() + t.def->options().prepare_timeout;
    t.deadline_armed = true;
    deadlines_.push({due, t.weak_from_this()});
    if (deadline_call_ != 0 && deadline_call_due_ <= due) return;  // the armed call comes first
    // A cancel can lose the race with the firing: the generation tells that
    // late call apart, and it finds nothing due or only what is due anyway.
    if (deadline_call_ != 0) host_.cancel_call(deadline_call_);
    const std::uint64_t generation = ++deadline_generation_;
    deadline_call_due_ = due;
    deadline_call_ = host_.call_at(due, [this, generation] { deadlines_due(generation); });
}

void Coordinator::deadlines_due(std::uint64_t generation) {
    {
        const Lock lock(mutex_);
        if (generation == deadline_generation_) deadline_call_ = 0;
        const SteadyTime now = host_.clock().steady_now();
        // Entries that no longer count go too, due or not: the next call is
        // armed for a deadline that still matters (not one per decided entry).
        while (!deadlines_.empty()) {
            const auto held = deadlines_.top().txn.lock();
            const bool counts = held && held->deadline_armed;
            if (counts && deadlines_.top().due > now) break;
            deadlines_.pop();
            if (counts) prepare_timed_out(*held);
        }
        if (!deadlines_.empty() && deadline_call_ == 0) {
            const std::uint64_t next = ++deadline_generation_;
            deadline_call_due_ = deadlines_.top().due;
            deadline_call_ = host_.call_at(deadline_call_due_, [this, next] { deadlines_due(next); });
        }
    }
    flush_events();
}

}  // namespace txflow::atomic
