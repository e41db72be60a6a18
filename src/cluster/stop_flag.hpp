#pragma once
// A flag the worker's service threads sleep on: set() wakes them for good,
// poke() once (work arrived), and wait_for() returns early for either.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace txflow::cluster {

class StopFlag {
public:
    void set() {
        {
            std::lock_guard lock(mutex_);
            stopped_ = true;
        }
        cv_.notify_all();
    }
    [[nodiscard]] bool is_set() const {
        std::lock_guard lock(mutex_);
        return stopped_;
    }
    // Sleeps up to `d`; true when stopped.
    bool wait_for(std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, d, [&] { return stopped_; });
        return stopped_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool stopped_ = false;
};

// A wake-up for one sleeper, remembered until taken.
class Wake {
public:
    void poke() {
        {
            std::lock_guard lock(mutex_);
            poked_ = true;
        }
        cv_.notify_one();
    }
    // Sleeps until poked or `d` passed; clears the poke. True when poked.
    bool wait_for(std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        const bool poked = cv_.wait_for(lock, d, [&] { return poked_; });
        poked_ = false;
        return poked;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool poked_ = false;
};

}  // namespace txflow::cluster
