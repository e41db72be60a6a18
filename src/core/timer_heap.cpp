#include "txflow/core/timer_heap.hpp"

#include <stdexcept>
#include <utility>

namespace txflow {

TimerHeap::Handle TimerHeap::add(SteadyTime due, std::uint64_t payload) {
    std::uint32_t slot = free_head_;
    if (slot != kNoSlot) {
        free_head_ = slots_[slot].pos;
    } else {
        if (slots_.size() >= kNoSlot) throw std::length_error("TimerHeap: too many timers");
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.push_back(Slot{0, 0, 0});
    }
    slots_[slot].payload = payload;
    heap_.push_back(Node{due, next_seq_++, slot});
    slots_[slot].pos = static_cast<std::uint32_t>(heap_.size() - 1);
    sift_up(heap_.size() - 1);
    return Handle{slot, slots_[slot].generation};
}

bool TimerHeap::contains(Handle handle) const { return live(handle); }

bool TimerHeap::cancel(Handle handle) {
    if (!live(handle)) return false;
    remove_at(slots_[handle.slot].pos);
    return true;
}

bool TimerHeap::reschedule(Handle handle, SteadyTime due) {
    if (!live(handle)) return false;
    const std::size_t pos = slots_[handle.slot].pos;
    Node& node = heap_[pos];
    const bool earlier = due < node.due;
    node.due = due;
    node.seq = next_seq_++;  // a later sequence only ever moves it down among equals
    if (earlier) {
        sift_up(pos);
    } else {
        sift_down(pos);
    }
    return true;
}

std::optional<TimerHeap::Fired> TimerHeap::pop_due(SteadyTime now) {
    if (heap_.empty() || now < heap_.front().due) return std::nullopt;
    const Node top = heap_.front();
    const Slot& s = slots_[top.slot];
    Fired fired{Handle{top.slot, s.generation}, top.due, s.payload};
    remove_at(0);
    return fired;
}

void TimerHeap::reserve(std::size_t n) {
    heap_.reserve(n);
    slots_.reserve(n);
}

void TimerHeap::clear() {
    for (const Node& node : heap_) release_slot(node.slot);
    heap_.clear();
}

void TimerHeap::remove_at(std::size_t pos) {
    const std::uint32_t slot = heap_[pos].slot;
    const Node last = heap_.back();
    heap_.pop_back();
    if (pos < heap_.size()) {
        place(pos, last);
        if (pos > 0 && before(last, heap_[(pos - 1) / 2])) {
            sift_up(pos);
        } else {
            sift_down(pos);
        }
    }
    release_slot(slot);
}

void TimerHeap::release_slot(std::uint32_t slot) {
    Slot& s = slots_[slot];
    ++s.generation;  // every outstanding handle to this slot is now stale
    s.pos = free_head_;
    free_head_ = slot;
}

void TimerHeap::sift_up(std::size_t pos) {
    const Node node = heap_[pos];
    while (pos > 0) {
        const std::size_t parent = (pos - 1) / 2;
        if (!before(node, heap_[parent])) break;
        place(pos, heap_[parent]);
        pos = parent;
    }
    place(pos, node);
}

void TimerHeap::sift_down(std::size_t pos) {
    const Node node = heap_[pos];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * pos + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
        if (!before(heap_[child], node)) break;
        place(pos, heap_[child]);
        pos = child;
    }
    place(pos, node);
}

}  // namespace txflow
