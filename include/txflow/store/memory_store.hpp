#pragma once
/// @file
/// A Store in memory: the contract without the disk. Useful in tests and for
/// processes that want sagas' bookkeeping but not durability.

#include <deque>
#include <mutex>
#include "txflow/core/export.hpp"

#include "txflow/store/store.hpp"

namespace txflow::store {

/// A Store in memory: the contract without durability; nothing survives the process.
class TXFLOW_EXPORT MemoryStore final : public Store {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "memory"; }
    StoreResult<std::uint64_t> submit(std::uint16_t type, std::string_view payload) override;
    StoreResult<Ok> sync(std::uint64_t seq) override;
    StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const Record&)>& visit) override;
    StoreResult<std::optional<Snapshot>> load_snapshot() override;
    StoreResult<Ok> write_snapshot(std::uint64_t seq, std::string_view state) override;
    [[nodiscard]] std::uint64_t last_seq() const override;
    [[nodiscard]] std::uint64_t bytes_since_snapshot() const override;

    [[nodiscard]] std::size_t record_count() const;  ///< records still held (not covered by a snapshot)

private:
    mutable std::mutex mutex_;
    std::deque<Record> records_;
    std::optional<Snapshot> snapshot_;
    std::uint64_t last_seq_ = 0;
    std::uint64_t bytes_since_snapshot_ = 0;
};

}  // namespace txflow::store
