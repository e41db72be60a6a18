#pragma once
// BatchExporter's queue: a bounded multi-producer, single-consumer ring
// (Vyukov's bounded queue: a sequence number per slot). push() never blocks
// and never allocates: a full ring refuses the span (the caller drops and
// counts it). Producers are the scheduler's threads; the consumer is the
// exporter's sending thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <variant>
#include <vector>

#include "txflow/observe/job_span.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow::observe {

// A queued span: formatted already (sagas, users), or a job attempt's raw fields.
using QueuedSpan = std::variant<Span, JobSpan>;

class SpanRing {
public:
    explicit SpanRing(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity), slots_(capacity_) {
        for (std::size_t i = 0; i < capacity_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
    }

    // False when full. On true, `enqueued` is the number of spans pushed before this one.
    template <typename T>
    bool push(T&& span, std::uint64_t& enqueued) noexcept {
        std::uint64_t pos = tail_.load(std::memory_order_relaxed);
        for (;;) {
            Slot& slot = slots_[pos % capacity_];
            const std::uint64_t seq = slot.seq.load(std::memory_order_acquire);
            if (seq == pos) {
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    slot.span = std::forward<T>(span);
                    slot.seq.store(pos + 1, std::memory_order_release);
                    enqueued = pos;
                    return true;
                }
            } else if (seq < pos) {
                return false;  // the slot still holds the span from one lap ago: full
            } else {
                pos = tail_.load(std::memory_order_relaxed);  // another producer took it
            }
        }
    }

    // Consumer only: moves out the next span, or false when none is ready.
    bool pop(QueuedSpan& out) noexcept {
        Slot& slot = slots_[head_ % capacity_];
        if (slot.seq.load(std::memory_order_acquire) != head_ + 1) return false;
        out = std::move(slot.span);
        slot.span = QueuedSpan{};  // frees the strings now, not a lap later
        slot.seq.store(head_ + capacity_, std::memory_order_release);
        ++head_;
        head_shared_.store(head_, std::memory_order_relaxed);
        return true;
    }

    // Spans pushed and not yet popped (claimed slots included), from any thread.
    [[nodiscard]] std::size_t size() const noexcept {
        const std::uint64_t tail = tail_.load(std::memory_order_acquire);
        const std::uint64_t head = head_shared_.load(std::memory_order_acquire);
        return tail > head ? static_cast<std::size_t>(tail - head) : 0;
    }

private:
    struct Slot {
        std::atomic<std::uint64_t> seq{0};
        QueuedSpan span;
    };
    static constexpr std::size_t kLine = 64;

    std::size_t capacity_;
    std::vector<Slot> slots_;
    alignas(kLine) std::atomic<std::uint64_t> tail_{0};  // producers
    alignas(kLine) std::uint64_t head_ = 0;              // the consumer's own copy
    std::atomic<std::uint64_t> head_shared_{0};          // for size()
};

}  // namespace txflow::observe
