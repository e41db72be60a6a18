#include "sd_notify.hpp"

#ifdef TXFLOW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace txflow::daemon::detail {

bool notify(const std::string& state) {
#ifdef TXFLOW_HAVE_SYSTEMD
    // unset_environment = 0: every later message (STOPPING=1, the pings) needs NOTIFY_SOCKET too.
    return sd_notify(0, state.c_str()) > 0;
#else
    (void)state;
    return false;
#endif
}

std::optional<std::chrono::microseconds> watchdog_interval() {
#ifdef TXFLOW_HAVE_SYSTEMD
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        return std::chrono::microseconds{static_cast<std::chrono::microseconds::rep>(usec / 2)};
#endif
    return std::nullopt;
}

Watchdog::Watchdog(std::chrono::microseconds interval) : thread_([this, interval] { loop(interval); }) {}

Watchdog::~Watchdog() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void Watchdog::loop(std::chrono::microseconds interval) {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        lock.unlock();
        (void)notify("WATCHDOG=1");
        lock.lock();
        wake_.wait_for(lock, interval, [this] { return stop_; });
    }
}

}  // namespace txflow::daemon::detail
