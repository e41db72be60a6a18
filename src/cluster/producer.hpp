#pragma once
// The producer: claims jobs when handler threads are about to run dry, one
// statement per batch (FOR UPDATE SKIP LOCKED; each job's new attempt number
// is its fencing token), and sleeps until the poll interval, a notification,
// or a freed slot after a full claim (more may be waiting) wakes it.

#include <thread>

#include "cluster/pool.hpp"
#include "cluster/session.hpp"
#include "cluster/shared.hpp"

namespace txflow::cluster {

class Producer {
public:
    Producer(Shared& shared, Pool& pool);
    Session& session() { return session_; }
    void start();
    void join();  // after shared.stop_claims.set() and a poke

private:
    void run();
    enum class Round : std::uint8_t { skipped, drained, full };
    // One round over the queues: skipped (the threads have enough waiting),
    // drained (every claim came back short) or full (more may be waiting).
    Round claim_round();

    Shared& shared_;
    Pool& pool_;
    Session session_;
    std::size_t next_queue_ = 0;
    std::thread thread_;
};

}  // namespace txflow::cluster
