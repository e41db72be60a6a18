#include "txflow/core/timer_heap.hpp"

#include <algorithm>
#include <stdexcept>

namespace txflow {

TimerHeap::Handle TimerHeap::add(SteadyTime due, std::uint64_t payload) {
    const std::uint32_t seq = take_seq();
    if (free_.empty()) {
        if (slots_.size() >= kNoSlot) throw std::length_error("TimerHeap: too many timers");
        // Room for every slot on the free stack, so release_slot never allocates.
        if (free_.capacity() <= slots_.size()) free_.reserve(std::max<std::size_t>(16, 2 * slots_.size()));
        slots_.push_back(Slot{0, 0, 0});
        free_.push_back(static_cast<std::uint32_t>(slots_.size() - 1));
    }
    const std::uint32_t slot = free_.back();
    heap_.push_back(Node{due, slot, seq});  // may throw: nothing taken yet
    free_.pop_back();
    // Freed slots come back in cancel order, scattered over memory: fetch the
    // one a few adds ahead now so that add does not wait for it then.
    if (free_.size() > kPrefetchAhead) prefetch(&slots_[free_[free_.size() - kPrefetchAhead]]);
    Slot& s = slots_[slot];
    ++s.generation;  // odd: live
    s.seq = seq;
    s.payload = payload;
    ++live_;
    sift_up(heap_.size() - 1);
    return Handle{slot, s.generation};
}

bool TimerHeap::reschedule(Handle handle, SteadyTime due) {
    if (!contains(handle)) return false;
    const std::uint32_t seq = take_seq();
    heap_.push_back(Node{due, handle.slot, seq});  // may throw: nothing changed yet
    slots_[handle.slot].seq = seq;                 // the old entry is now a tombstone
    ++dead_;
    sift_up(heap_.size() - 1);
    settle();
    return true;
}

std::optional<TimerHeap::Fired> TimerHeap::pop_due(SteadyTime now) {
    if (heap_.empty() || now < heap_.front().due) return std::nullopt;
    const Node top = heap_.front();  // live: tombstones never stay on top
    const Slot& s = slots_[top.slot];
    Fired fired{Handle{top.slot, s.generation}, top.due, s.payload};
    pop_top();
    release_slot(top.slot);
    --live_;
    settle();
    return fired;
}

void TimerHeap::reserve(std::size_t n) {
    heap_.reserve(n);
    slots_.reserve(n);
    free_.reserve(n);
}

void TimerHeap::clear() {
    for (const Node& node : heap_) {
        if (entry_live(node)) release_slot(node.slot);
    }
    heap_.clear();
    live_ = 0;
    dead_ = 0;
}

void TimerHeap::pop_top() {
    const Node last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
        heap_.front() = last;
        sift_down(0);
    }
}

void TimerHeap::prune_top() {
    while (!heap_.empty() && !entry_live(heap_.front())) {
        pop_top();
        --dead_;
    }
}

void TimerHeap::settle() {
    if (dead_ > live_) {
        compact();
    } else {
        prune_top();
    }
}

void TimerHeap::compact() {
    if (live_ == 0) {
        heap_.clear();
    } else {
        drop_tombstones();
        for (std::size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
    }
    dead_ = 0;
}

void TimerHeap::drop_tombstones() {
    // The slots are scattered: look a few entries ahead.
    const std::size_t n = heap_.size();
    std::size_t out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i + kPrefetchAhead < n) prefetch(&slots_[heap_[i + kPrefetchAhead].slot]);
        if (entry_live(heap_[i])) heap_[out++] = heap_[i];
    }
    heap_.resize(out);
}

void TimerHeap::renumber() {
    drop_tombstones();
    dead_ = 0;
    std::sort(heap_.begin(), heap_.end(), before);  // a sorted array is a heap
    std::uint32_t seq = 0;
    for (Node& node : heap_) {
        node.seq = seq;
        slots_[node.slot].seq = seq;
        ++seq;
    }
    next_seq_ = seq;
}

void TimerHeap::sift_up(std::size_t pos) {
    const Node node = heap_[pos];
    while (pos > 0) {
        const std::size_t parent = (pos - 1) / 2;
        if (!before(node, heap_[parent])) break;
        heap_[pos] = heap_[parent];
        pos = parent;
    }
    heap_[pos] = node;
}

void TimerHeap::sift_down(std::size_t pos) {
    const Node node = heap_[pos];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * pos + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
        if (!before(heap_[child], node)) break;
        heap_[pos] = heap_[child];
        pos = child;
    }
    heap_[pos] = node;
}

}  // namespace txflow
