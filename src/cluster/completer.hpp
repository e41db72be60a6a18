#pragma once
// The completer: handlers hand their results here and go on; one thread
// writes them in batches (one fenced UPDATE for all completions, one for all
// failures and snoozes), on its own connection. While it writes, the next
// batch gathers, so the batch size follows the load (a group commit). A lost
// connection keeps the batch: it is written after the reconnect, still
// fenced, so nothing is lost and nothing stale lands.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "cluster/queries.hpp"
#include "cluster/session.hpp"
#include "cluster/shared.hpp"

namespace txflow::cluster {

class Completer {
public:
    explicit Completer(Shared& shared);
    Session& session() { return session_; }
    void start();
    void complete(Held job);
    void setback(Setback setback);
    // Writes what is pending until `deadline`, then stops; what is left
    // (the database unreachable) is dropped: its leases expire.
    void finish(std::chrono::steady_clock::time_point deadline);
    ~Completer();

private:
    void run();
    bool write(std::vector<Held>& done, std::vector<Setback>& setbacks);

    Shared& shared_;
    Session session_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Held> done_;
    std::vector<Setback> setbacks_;
    bool finishing_ = false;
    StopFlag give_up_;  // never set: finish() bounds the session by a deadline instead
    std::thread thread_;
};

}  // namespace txflow::cluster
