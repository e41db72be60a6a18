#pragma once
// The periodic services, run in turn by one maintenance thread on one
// connection (maintenance.cpp): each tick() does one step and says when it
// wants to run next. One file each: heartbeat.cpp, rescuer.cpp, cleaner.cpp.

#include <chrono>
#include <cstddef>

#include "cluster/session.hpp"
#include "cluster/shared.hpp"

namespace txflow::cluster {

using Millis = std::chrono::milliseconds;

// The node row and the leases of every job this worker holds, one statement.
// Jobs whose lease it could not extend are lost: their handlers are asked to stop.
class Heartbeat {
public:
    explicit Heartbeat(Shared& shared) : shared_(shared) {}
    Millis tick(Session& session);

private:
    Shared& shared_;
};

// Expired leases (any node's jobs) back to available, or discarded after
// their last attempt; node rows whose heartbeat stopped long ago removed.
class Rescuer {
public:
    explicit Rescuer(Shared& shared) : shared_(shared) {}
    Millis tick(Session& session);

private:
    Shared& shared_;
};

// Finished rows past their state's retention, deleted one batch per tick:
// a tick that deleted a full batch runs again at once.
class Cleaner {
public:
    explicit Cleaner(Shared& shared) : shared_(shared) {}
    Millis tick(Session& session);

private:
    Shared& shared_;
    std::size_t state_ = 0;  // which state's turn it is
};

}  // namespace txflow::cluster
