#pragma once
// The scheduler's side of a Store: typed records in, a LiveState kept in step
// with them, and snapshots taken when enough has been written since the last.
//
// A record is folded into the live state and submitted under one lock, so the
// state a snapshot saves is exactly the records up to the store's last seq;
// the wait for durability (sync) happens outside the lock, so concurrent
// writers share a flush. A store failure is sticky: every later write fails
// too, and callers must not act on a transition they could not record.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "store/live_state.hpp"
#include "txflow/store/store.hpp"

namespace txflow::store {

class Journal {
public:
    // Called once, when the store first fails (under the journal's lock: it
    // must not call back into the journal).
    using FailureHandler = std::function<void(const StoreError&)>;

    explicit Journal(std::shared_ptr<Store> store, std::uint64_t snapshot_every_bytes = 16u << 20,
                     FailureHandler on_failure = {})
        : store_(std::move(store)), snapshot_every_(snapshot_every_bytes), on_failure_(std::move(on_failure)) {}

    // Snapshot, then every record after it. Call once, before any write.
    StoreResult<Ok> load();
    // Only before writes begin (recovery), or under external agreement.
    [[nodiscard]] const LiveState& state() const { return state_; }

    // The record's type comes with it (R::type): a payload cannot be filed
    // under another record's tag.
    template <RecordPayload R>
    StoreResult<std::uint64_t> submit(const R& record) {
        thread_local std::string buffer;  // records are encoded without an allocation each
        encode(record, buffer);
        return submit_encoded(R::type, buffer);
    }
    StoreResult<Ok> sync(std::uint64_t seq);
    template <RecordPayload R>
    StoreResult<Ok> write(const R& record) {
        auto seq = submit(record);
        if (!seq) return unexpected(std::move(seq.error()));
        return sync(*seq);
    }

    // Takes a snapshot when the store has grown past the threshold since the
    // last one; cheap to call often.
    void maybe_snapshot();
    StoreResult<Ok> snapshot();

    [[nodiscard]] Store& store() { return *store_; }

private:
    StoreResult<std::uint64_t> submit_encoded(RecordType type, std::string_view payload);
    void fail(StoreError error);  // with mutex_ held

    std::shared_ptr<Store> store_;
    std::uint64_t snapshot_every_;
    std::mutex mutex_;
    LiveState state_;
    std::optional<StoreError> failed_;
    FailureHandler on_failure_;
    std::atomic<bool> snapshotting_{false};
};

}  // namespace txflow::store
