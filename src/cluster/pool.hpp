#pragma once
// The handler threads: claimed jobs wait in a FIFO, `concurrency` threads
// run them and hand each result to the completer. A finished job frees a
// slot; when the producer's last claim was full, that wakes it to claim more.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/completer.hpp"
#include "cluster/shared.hpp"

namespace txflow::cluster {

class Pool {
public:
    Pool(Shared& shared, Completer& completer, const std::map<std::string, Handler, std::less<>>& handlers);
    ~Pool();
    void start();
    void push(std::vector<store::ClaimedJob> jobs);
    [[nodiscard]] std::size_t in_flight() const;  // waiting + running
    [[nodiscard]] std::size_t waiting() const;
    // Stops taking jobs and returns the ones not started.
    std::vector<store::ClaimedJob> close();
    // Waits until no handler runs, or `deadline`: true when none runs.
    bool wait_idle(std::chrono::steady_clock::time_point deadline);
    [[nodiscard]] std::size_t running() const;
    void join();

private:
    void run();
    void execute(store::ClaimedJob job, std::mt19937_64& rng);

    Shared& shared_;
    Completer& completer_;
    const std::map<std::string, Handler, std::less<>>& handlers_;
    mutable std::mutex mutex_;
    std::condition_variable work_;
    std::condition_variable idle_;
    std::deque<store::ClaimedJob> waiting_;
    std::size_t running_ = 0;
    bool closed_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace txflow::cluster
