#pragma once
// Keeps recovered sagas from taking every worker after a restart: at most
// `limit` of their tasks are queued or running at once; the others wait here,
// in order, and are submitted as slots free up. Due fires keep the rest.

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace txflow::saga {

class RecoveryGate {
public:
    // Hands a task to the worker pool; false if the pool refused it.
    using Submit = std::function<bool()>;

    explicit RecoveryGate(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}

    // Submits now if a slot is free, else when one is.
    void enter(Submit submit);
    // A task that entered has finished (or was refused): its slot goes to the next waiting one.
    void leave();

private:
    std::mutex mutex_;
    std::size_t limit_;
    std::size_t active_ = 0;
    std::deque<Submit> waiting_;
};

}  // namespace txflow::saga
