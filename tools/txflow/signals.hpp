#pragma once
// The daemon's signals (`txflow run`): SIGTERM, SIGINT and SIGHUP are blocked
// in every thread before any is created and taken by sigtimedwait() on the
// main thread, so no work happens in a signal handler.

#include <signal.h>

#include <chrono>

namespace txflow::tool {

// Blocks SIGTERM, SIGINT and SIGHUP in this thread (and so in every thread it
// creates later); throws Failure when it cannot.
[[nodiscard]] sigset_t block_daemon_signals();

// The next of `signals`, or 0 once `deadline` has passed (nullptr: no deadline).
[[nodiscard]] int wait_signal(const sigset_t& signals, const std::chrono::steady_clock::time_point* deadline);

}  // namespace txflow::tool
