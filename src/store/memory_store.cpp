#include "txflow/store/memory_store.hpp"

#include <fmt/format.h>

namespace txflow::store {

StoreResult<std::uint64_t> MemoryStore::submit(std::uint16_t type, std::string_view payload) {
    std::lock_guard lock(mutex_);
    records_.push_back(Record{++last_seq_, type, std::string(payload)});
    bytes_since_snapshot_ += payload.size();
    return last_seq_;
}

StoreResult<Ok> MemoryStore::sync(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    if (seq > last_seq_) {
        return unexpected(StoreError{StoreError::Code::invalid,
                                     fmt::format("sync({}) is beyond the last record {}", seq, last_seq_)});
    }
    return Ok{};
}

StoreResult<Ok> MemoryStore::read(std::uint64_t after, const std::function<bool(const Record&)>& visit) {
    // Copy out first: a visitor may append (recovery writes as it replays).
    std::deque<Record> copy;
    {
        std::lock_guard lock(mutex_);
        if (snapshot_ && after < snapshot_->seq) {  // the records it covers are gone
            return unexpected(StoreError{
                StoreError::Code::invalid,
                fmt::format("read after seq {}: records {} to {} were dropped by the snapshot at seq {}; read from "
                            "the snapshot's seq",
                            after, after + 1, snapshot_->seq, snapshot_->seq)});
        }
        for (const auto& r : records_) {
            if (r.seq > after) copy.push_back(r);
        }
    }
    for (const auto& r : copy) {
        if (!visit(r)) break;
    }
    return Ok{};
}

StoreResult<std::optional<Snapshot>> MemoryStore::load_snapshot() {
    std::lock_guard lock(mutex_);
    return snapshot_;
}

StoreResult<Ok> MemoryStore::write_snapshot(std::uint64_t seq, std::string_view state) {
    std::lock_guard lock(mutex_);
    if (seq > last_seq_) {
        return unexpected(StoreError{StoreError::Code::invalid,
                                     fmt::format("snapshot at {} is beyond the last record {}", seq, last_seq_)});
    }
    if (snapshot_ && seq < snapshot_->seq) {
        return unexpected(StoreError{StoreError::Code::invalid,
                                     fmt::format("snapshot at {} is older than the one at {}", seq, snapshot_->seq)});
    }
    snapshot_ = Snapshot{seq, std::string(state)};
    while (!records_.empty() && records_.front().seq <= seq) {
        records_.pop_front();
    }
    bytes_since_snapshot_ = 0;
    for (const auto& r : records_) bytes_since_snapshot_ += r.payload.size();
    return Ok{};
}

std::uint64_t MemoryStore::last_seq() const {
    std::lock_guard lock(mutex_);
    return last_seq_;
}

std::uint64_t MemoryStore::bytes_since_snapshot() const {
    std::lock_guard lock(mutex_);
    return bytes_since_snapshot_;
}

std::size_t MemoryStore::record_count() const {
    std::lock_guard lock(mutex_);
    return records_.size();
}

}  // namespace txflow::store
