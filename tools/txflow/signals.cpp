// The daemon's signals (signals.hpp).

#include "signals.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>

#include "command.hpp"

namespace txflow::tool {

sigset_t block_daemon_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    if (const int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0)
        throw Failure(3, std::string("pthread_sigmask: ") + std::strerror(rc));
    return signals;
}

int wait_signal(const sigset_t& signals, const std::chrono::steady_clock::time_point* deadline) {
    using std::chrono::milliseconds;
    while (true) {
        milliseconds wait{3'600'000};
        if (deadline != nullptr) {
            const auto left = std::chrono::ceil<milliseconds>(*deadline - std::chrono::steady_clock::now());
            if (left <= milliseconds{0}) return 0;
            wait = std::min(wait, left);
        }
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(wait.count() / 1000);
        ts.tv_nsec = static_cast<long>(wait.count() % 1000) * 1'000'000L;
        const int sig = sigtimedwait(&signals, nullptr, &ts);
        if (sig > 0) return sig;  // else EAGAIN (timed out) or EINTR: re-check the deadline
    }
}

}  // namespace txflow::tool
