#pragma once
// The leader lease: one row per election in <schema>.txflow_leader, with an
// expiry on the database's clock (clock_timestamp(), so no node's clock
// decides) and an epoch, one more for every new term. Every statement here
// is one round trip and says whether it took effect.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "store/pg/connection.hpp"

namespace txflow::cluster {

class LeaderLease {
public:
    LeaderLease(const std::string& schema, std::string election, std::string node, std::chrono::milliseconds lease);

    // Takes the lease when it is expired or this node's own (after a
    // reconnect), or creates it: a new term, epoch + 1. nullopt: another node
    // holds it, or its row is locked (a leader inside a fire transaction).
    store::StoreResult<std::optional<std::int64_t>> acquire(const store::pg::Connection& conn) const;
    // Extends this term's lease; false when it lapsed or another term began.
    store::StoreResult<bool> renew(const store::pg::Connection& conn, std::int64_t epoch) const;
    // Ends this term's lease now, so another node can take over at once.
    store::StoreResult<store::Ok> release(const store::pg::Connection& conn, std::int64_t epoch) const;
    // Inside a transaction: true while this term's lease holds. The row stays
    // share-locked until the transaction ends, so a take-over waits for it.
    store::StoreResult<bool> fence(const store::pg::Connection& conn, std::int64_t epoch) const;

    [[nodiscard]] const std::string& node() const { return node_; }

private:
    [[nodiscard]] store::pg::Params term(std::int64_t epoch) const;

    std::string table_;
    std::string election_;
    std::string node_;
    std::string lease_ms_;
};

}  // namespace txflow::cluster
