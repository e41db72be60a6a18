#pragma once
// Deadlines on the monotonic clock: an indexed binary min-heap.
//
// Heap entries are small (due, insertion sequence, slot: 24 bytes) so sifting
// moves little memory; each timer also owns a 16-byte slot {heap position,
// generation, payload} in a vector recycled through a free list. A Handle names
// a slot and the generation it was issued with; firing or cancelling a timer
// bumps the slot's generation, so stale handles are recognised and ignored.
// No hash map: about 40 bytes per timer, amortised.
//
// Not thread-safe: the owner (the scheduler's timer thread) guards it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "txflow/core/clock.hpp"

namespace txflow {

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

    Handle add(SteadyTime due, std::uint64_t payload);
    // O(log n). False if the timer already fired, was cancelled, or the handle is stale.
    bool cancel(Handle handle);
    // O(log n). Moves a live timer to `due`; it then orders after timers
    // already due at the same instant (as if re-added). False if not live.
    bool reschedule(Handle handle, SteadyTime due);
    [[nodiscard]] bool contains(Handle handle) const;

    [[nodiscard]] std::optional<SteadyTime> next_due() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().due;
    }
    // The earliest timer if its due <= now (FIFO among equal deadlines), removed.
    std::optional<Fired> pop_due(SteadyTime now);

    [[nodiscard]] std::size_t size() const { return heap_.size(); }
    [[nodiscard]] bool empty() const { return heap_.empty(); }
    void reserve(std::size_t n);
    void clear();  // invalidates every outstanding handle

private:
    struct Node {
        SteadyTime due;
        std::uint64_t seq;
        std::uint32_t slot;
    };
    struct Slot {
        std::uint32_t pos;  // heap index while live; next free slot while free
        std::uint32_t generation;
        std::uint64_t payload;
    };

    [[nodiscard]] static bool before(const Node& a, const Node& b) {
        return a.due < b.due || (a.due == b.due && a.seq < b.seq);
    }
    [[nodiscard]] bool live(Handle h) const {
        return h.slot < slots_.size() && slots_[h.slot].generation == h.generation &&
               slots_[h.slot].pos < heap_.size() && heap_[slots_[h.slot].pos].slot == h.slot;
    }
    void remove_at(std::size_t pos);  // frees the slot too
    void release_slot(std::uint32_t slot);
    void sift_up(std::size_t pos);
    void sift_down(std::size_t pos);
    void place(std::size_t pos, const Node& node) {
        heap_[pos] = node;
        slots_[node.slot].pos = static_cast<std::uint32_t>(pos);
    }

    std::vector<Node> heap_;
    std::vector<Slot> slots_;
    std::uint32_t free_head_ = kNoSlot;
    std::uint64_t next_seq_ = 0;
};

}  // namespace txflow
