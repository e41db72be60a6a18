#pragma once
// Deadlines on the monotonic clock: a binary min-heap with lazy cancel.
//
// Heap entries are 16 bytes {due, slot, seq}; `seq` is an insertion sequence
// that keeps FIFO order among equal deadlines. Each timer also owns a 16-byte
// slot {generation, seq, payload} in a vector recycled through a free stack. A
// Handle names a slot and the generation it was issued with: the generation is
// odd while the slot holds a live timer and is bumped when the timer fires or
// is cancelled, so stale handles are recognised and ignored.
//
// Cancel is lazy: it only bumps the slot's generation (one slot access, no heap
// work). The heap entry stays behind as a tombstone: an entry is live only if
// its slot is live and still carries the entry's seq. Tombstones at the top are
// pruned at once (the top entry is always live, so next_due() is exact), and
// when tombstones outnumber live entries the heap is compacted (filter + heapify,
// O(n), amortised O(1) per cancel), so the heap never holds more than about
// 2x the live timers. Reschedule leaves a tombstone too and pushes a fresh entry
// with a new seq, so it orders after timers already due at the same instant.
// Sifting never touches the slots (no heap positions to maintain).
//
// Memory: 16 B slot + 16 B entry per live timer, at most one tombstone entry
// per live timer on top: 32-48 B per timer, plus vector slack. No hash map.
//
// Not thread-safe: the owner (the scheduler's timer thread) guards it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "txflow/core/clock.hpp"

namespace txflow {

struct TimerHeapTestAccess;  // tests only: peeks at tombstones and sequences

class TimerHeap {
public:
    struct Handle {
        std::uint32_t slot = kNoSlot;
        std::uint32_t generation = 0;
        friend bool operator==(const Handle&, const Handle&) = default;
    };
    struct Fired {
        Handle handle;  // already stale: the timer is gone from the heap
        SteadyTime due;
        std::uint64_t payload;
    };

    static constexpr std::uint32_t kNoSlot = 0xFFFF'FFFFu;

    // Amortised O(log n).
    Handle add(SteadyTime due, std::uint64_t payload);
    // Amortised O(1) (lazy). False if the timer already fired, was cancelled,
    // or the handle is stale. Never allocates.
    bool cancel(Handle handle) {
        if (!contains(handle)) return false;
        release_slot(handle.slot);  // its heap entry is now a tombstone
        --live_;
        ++dead_;
        // The top entry was live; only this timer's entry has just died.
        if (dead_ > live_ || heap_.front().slot == handle.slot) settle();
        return true;
    }
    // Amortised O(log n). Moves a live timer to `due`; it then orders after
    // timers already due at the same instant (as if re-added). False if not live.
    bool reschedule(Handle handle, SteadyTime due);
    [[nodiscard]] bool contains(Handle handle) const {
        return handle.slot < slots_.size() && (handle.generation & 1u) != 0 &&
               slots_[handle.slot].generation == handle.generation;
    }

    // The earliest live deadline (the top entry is never a tombstone).
    [[nodiscard]] std::optional<SteadyTime> next_due() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().due;
    }
    // The earliest timer if its due <= now (FIFO among equal deadlines), removed.
    std::optional<Fired> pop_due(SteadyTime now);

    // Live timers (tombstones not counted).
    [[nodiscard]] std::size_t size() const { return live_; }
    [[nodiscard]] bool empty() const { return live_ == 0; }
    void reserve(std::size_t n);
    void clear();  // invalidates every outstanding handle

private:
    friend struct TimerHeapTestAccess;

    struct Node {
        SteadyTime due;
        std::uint32_t slot;
        std::uint32_t seq;
    };
    struct Slot {
        std::uint32_t generation;  // odd: live, even: free
        std::uint32_t seq;         // seq of the timer's live heap entry
        std::uint64_t payload;
    };
    static_assert(sizeof(Node) == 16 && sizeof(Slot) == 16);

    static constexpr std::uint32_t kLastSeq = 0xFFFF'FFFFu;
    static constexpr std::size_t kPrefetchAhead = 8;

    static void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(p);
#else
        (void)p;
#endif
    }

    [[nodiscard]] static bool before(const Node& a, const Node& b) {
        return a.due < b.due || (a.due == b.due && a.seq < b.seq);
    }
    [[nodiscard]] bool entry_live(const Node& node) const {
        const Slot& s = slots_[node.slot];
        return s.seq == node.seq && (s.generation & 1u) != 0;
    }
    std::uint32_t take_seq() {
        if (next_seq_ == kLastSeq) renumber();
        return next_seq_++;
    }
    void release_slot(std::uint32_t slot) {
        Slot& s = slots_[slot];
        ++s.generation;         // even: every outstanding handle to this slot is now stale
        free_.push_back(slot);  // never allocates: capacity() >= slots_.size()
    }
    void pop_top();
    void prune_top();
    void settle();   // after a tombstone was made or a live timer left
    void compact();  // drops every tombstone, re-heapifies
    void drop_tombstones();
    void renumber();  // compacts and reassigns seq 0.. in order (seq wrap)
    void sift_up(std::size_t pos);
    void sift_down(std::size_t pos);

    std::vector<Node> heap_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_;  // free slots, a stack
    std::uint32_t next_seq_ = 0;
    std::size_t live_ = 0;  // live timers
    std::size_t dead_ = 0;  // tombstone entries in heap_
};

}  // namespace txflow
