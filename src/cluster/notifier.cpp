#include "cluster/notifier.hpp"

#include <poll.h>

#include <cerrno>

namespace txflow::cluster {

std::string channel_of(const std::string& schema) {
    return "txflow:" + schema.substr(0, 56);
}

Notifier::Notifier(Shared& shared)
    : shared_(shared),
      session_("notifier", shared.options, *shared.log, shared.stop_claims, shared.counters.reconnects) {}

StoreResult<Ok> Notifier::listen() {
    auto r = session_.exec("listening for new jobs", "LISTEN \"" + shared_.channel + "\"");
    if (!r) return unexpected(std::move(r.error()));
    return Ok{};
}

void Notifier::start() {
    thread_ = std::thread([this] { run(); });
}

void Notifier::join() {
    if (thread_.joinable()) thread_.join();
}

void Notifier::run() {
    // Short waits: the stop flag is checked between them.
    constexpr std::chrono::milliseconds kSlice{100};
    while (!shared_.stop_claims.is_set()) {
        if (!session_.ensure()) break;
        if (session_.take_reconnected()) {
            if (auto ok = listen(); !ok) continue;  // lost again: ensure() once more
            shared_.producer_wake.poke();           // notifications sent meanwhile are gone
        }
        if (!receive(kSlice)) session_.lost("waiting for notifications: the connection broke");
    }
}

bool Notifier::receive(std::chrono::milliseconds timeout) {
    PGconn* conn = session_.get();
    pollfd fd{PQsocket(conn), POLLIN, 0};
    if (fd.fd < 0) return false;
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready < 0) return errno == EINTR;
    if (ready == 0) return true;
    if (PQconsumeInput(conn) == 0) return false;
    bool woke = false;
    while (PGnotify* n = PQnotifies(conn)) {
        PQfreemem(n);
        woke = true;
    }
    if (woke) {
        shared_.counters.wakeups.fetch_add(1, std::memory_order_relaxed);
        shared_.producer_wake.poke();
    }
    return true;
}

}  // namespace txflow::cluster
