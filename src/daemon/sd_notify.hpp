#pragma once
// The daemon's side of systemd's Type=notify protocol (sd_notify(3)): READY=1
// once the state is recovered and the scheduler runs, RELOADING=1 and READY=1
// around a SIGHUP reload, STOPPING=1 when the drain starts, and WATCHDOG=1
// pings at half of WATCHDOG_USEC. Through libsystemd when txflow is built with
// it (TXFLOW_HAVE_SYSTEMD); without it, or outside systemd (no NOTIFY_SOCKET),
// every call does nothing.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace txflow::daemon::detail {

// Sends `state` ("READY=1", ...) to the service manager; false when not sent
// (no systemd support built in, no NOTIFY_SOCKET, or the send failed).
bool notify(const std::string& state);

// How often to ping: half of WATCHDOG_USEC when the manager asked this
// process for watchdog pings, else nullopt.
std::optional<std::chrono::microseconds> watchdog_interval();

// Pings WATCHDOG=1 from a thread of its own every `interval` until destroyed.
class Watchdog {
public:
    explicit Watchdog(std::chrono::microseconds interval);
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog();

private:
    void loop(std::chrono::microseconds interval);

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace txflow::daemon::detail
