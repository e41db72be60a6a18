#pragma once
// The notifier: LISTENs on the schema's channel (migration 3's trigger sends
// one NOTIFY per INSERT statement into the jobs table) and wakes the producer
// when a notification arrives. Only a wake-up: polling runs regardless, and
// after a reconnect the producer is woken once for what it may have missed.

#include <thread>

#include "cluster/session.hpp"
#include "cluster/shared.hpp"

namespace txflow::cluster {

class Notifier {
public:
    explicit Notifier(Shared& shared);
    Session& session() { return session_; }
    StoreResult<Ok> listen();
    void start();
    void join();

private:
    void run();
    // Waits up to `timeout` for notifications; false when the connection broke.
    bool receive(std::chrono::milliseconds timeout);

    Shared& shared_;
    Session session_;
    std::thread thread_;
};

// The LISTEN channel of a schema: "txflow:" and the first 56 characters.
std::string channel_of(const std::string& schema);

}  // namespace txflow::cluster
