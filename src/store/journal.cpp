#include "store/journal.hpp"

#include <fmt/format.h>

namespace txflow::store {

StoreResult<Ok> Journal::load() {
    auto snap = store_->load_snapshot();
    if (!snap) return unexpected(std::move(snap.error()));
    std::uint64_t after = 0;
    if (*snap) {
        auto decoded = LiveState::decode((*snap)->state);
        if (!decoded) {
            return unexpected(StoreError{StoreError::Code::corrupt,
                                         fmt::format("the snapshot at seq {} does not decode", (*snap)->seq)});
        }
        state_ = std::move(*decoded);
        after = (*snap)->seq;
    }
    std::optional<StoreError> bad;
    auto read = store_->read(after, [&](const Record& r) {
        std::string why;
        if (!state_.apply(r.type, r.payload, &why)) {
            bad = StoreError{StoreError::Code::corrupt, fmt::format("record {}: {}", r.seq, why)};
            return false;
        }
        return true;
    });
    if (!read) return read;
    if (bad) return unexpected(std::move(*bad));
    return Ok{};
}

StoreResult<std::uint64_t> Journal::submit_encoded(RecordType type, std::string_view payload) {
    const std::lock_guard lock(mutex_);
    if (failed_) return unexpected(*failed_);
    auto seq = store_->submit(static_cast<std::uint16_t>(type), payload);
    if (!seq) {
        fail(seq.error());
        return seq;
    }
    std::string why;
    if (!state_.apply(static_cast<std::uint16_t>(type), payload, &why)) {
        // Our own record does not fold: a bug, and the log now disagrees with
        // the state. Stop writing rather than snapshot a wrong state.
        fail(StoreError{StoreError::Code::invalid, fmt::format("record {}: {}", *seq, why)});
        return unexpected(*failed_);
    }
    return seq;
}

StoreResult<Ok> Journal::sync(std::uint64_t seq) {
    auto synced = store_->sync(seq);
    if (!synced) {
        const std::lock_guard lock(mutex_);
        fail(synced.error());
    }
    return synced;
}

void Journal::fail(StoreError error) {
    if (failed_) return;
    failed_ = std::move(error);
    if (on_failure_) on_failure_(*failed_);
}

void Journal::maybe_snapshot() {
    if (store_->bytes_since_snapshot() < snapshot_every_) return;
    (void)snapshot();
}

StoreResult<Ok> Journal::snapshot() {
    bool expected = false;
    if (!snapshotting_.compare_exchange_strong(expected, true)) return Ok{};  // one at a time
    std::string state;
    std::uint64_t seq = 0;
    {
        const std::lock_guard lock(mutex_);
        if (failed_) {
            snapshotting_ = false;
            return unexpected(*failed_);
        }
        state = state_.encode();
        seq = store_->last_seq();
    }
    auto written = store_->write_snapshot(seq, state);
    snapshotting_ = false;
    return written;
}

}  // namespace txflow::store
