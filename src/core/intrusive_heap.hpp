#pragma once
// Deadlines on the monotonic clock: an intrusive 4-ary min-heap. The one
// timer heap of the library: the scheduler's job timers and its aux timers
// (retries, attempt deadlines, saga callbacks) are both IntrusiveHeap<T>.
//
// Each element keeps its own position (heap_pos), so cancel removes the entry
// at once (O(log n)), the heap holds no dead entries and needs no slot table:
// 24 B per armed timer {deadline, element, arming order}, and the vector grows
// by 1/8 (not 2x) so its slack stays under 3 B per timer. Equal deadlines pop
// in arming order, compared modulo 2^32, which is exact while tied timers were
// armed fewer than 2^31 arms apart. The order lives in the entry, not in the
// element: in a burst every deadline ties, and a comparison that reached into
// the elements cost a cache miss per heap level. An armed element must not
// move in memory.
//
// Four children a node, not two: half the levels, and a node's children
// share one or two cache lines, so a cancel (a random position, then a sift)
// or a pop misses the cache about half as often: 1 M random cancels ran 1.8x
// as fast as on the binary heap (bench/RESULTS.md, schedule_cancel_ops_per_s).
//
// Not thread-safe: the owner (the scheduler's mutex) guards it.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "txflow/core/clock.hpp"

namespace txflow {

inline constexpr std::uint32_t kNotInHeap = 0xFFFF'FFFFu;

template <class T>
concept HeapElement = requires(T& t) {
    { t.heap_pos } -> std::same_as<std::uint32_t&>;  // kNotInHeap when not armed
};

template <HeapElement T, std::size_t Arity = 4>
class IntrusiveHeap {
    static_assert(Arity >= 2);

public:
    [[nodiscard]] static bool contains(const T& t) { return t.heap_pos != kNotInHeap; }
    [[nodiscard]] bool empty() const { return heap_.empty(); }
    [[nodiscard]] std::size_t size() const { return heap_.size(); }
    void reserve(std::size_t n) { heap_.reserve(n); }

    [[nodiscard]] std::optional<SteadyTime> next_due() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().due;
    }
    // t must not be armed. Amortised O(log n); O(1) when `due` is the latest.
    void add(T& t, SteadyTime due) {
        if (heap_.size() >= kNotInHeap) throw std::length_error("txflow: too many timers");
        if (heap_.size() == heap_.capacity()) heap_.reserve(heap_.size() + heap_.size() / 8 + 16);
        heap_.push_back(Entry{due, &t, next_seq_++});  // may throw: nothing changed yet
        sift_up(heap_.size() - 1);
    }
    // t must be armed. O(log n).
    void cancel(T& t) { remove_at(t.heap_pos); }
    // Cancels t if armed, then arms it at `due` (after timers already due then).
    void rearm(T& t, SteadyTime due) {
        if (contains(t)) cancel(t);
        add(t, due);
    }
    // The earliest element due at `now` (FIFO among equal deadlines), disarmed; nullptr if none.
    T* pop_due(SteadyTime now) {
        if (heap_.empty() || now < heap_.front().due) return nullptr;
        T* t = heap_.front().item;
        remove_at(0);
        return t;
    }
    // Disarms every element (they may be destroyed afterwards).
    void clear() {
        for (const Entry& e : heap_) e.item->heap_pos = kNotInHeap;
        heap_.clear();
    }

private:
    struct Entry {
        SteadyTime due;
        T* item;
        std::uint32_t seq;
    };
    static bool before(const Entry& a, const Entry& b) {
        if (a.due != b.due) return a.due < b.due;
        return static_cast<std::int32_t>(a.seq - b.seq) < 0;
    }
    void put(std::size_t pos, const Entry& e) {
        heap_[pos] = e;
        e.item->heap_pos = static_cast<std::uint32_t>(pos);
    }
    void remove_at(std::size_t pos) {
        heap_[pos].item->heap_pos = kNotInHeap;
        const Entry last = heap_.back();
        heap_.pop_back();
        if (pos == heap_.size()) return;
        put(pos, last);
        if (pos > 0 && before(last, heap_[(pos - 1) / Arity])) sift_up(pos);
        else sift_down(pos);
    }
    void sift_up(std::size_t pos) {
        const Entry e = heap_[pos];
        while (pos > 0) {
            const std::size_t parent = (pos - 1) / Arity;
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
            const std::size_t first = Arity * pos + 1;
            if (first >= n) break;
            std::size_t child = first;
            const std::size_t end = first + Arity < n ? first + Arity : n;
            for (std::size_t c = first + 1; c < end; ++c) {
                if (before(heap_[c], heap_[child])) child = c;
            }
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
