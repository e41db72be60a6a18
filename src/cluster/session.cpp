#include "cluster/session.hpp"

#include <utility>

#include "cluster/backoff.hpp"

namespace txflow::cluster {

Session::Session(std::string role, const WorkerOptions& options, spdlog::logger& log, StopFlag& stop,
                 std::atomic<std::uint64_t>& reconnects)
    : role_(std::move(role)), options_(options), log_(log), stop_(stop), reconnects_(reconnects) {}

StoreResult<Ok> Session::open() {
    auto conn = store::pg::Connection::open(options_.pg);
    if (!conn) return unexpected(std::move(conn.error()));
    conn_.emplace(std::move(*conn));
    return Ok{};
}

bool Session::ensure() {
    if (conn_) return !stop_.is_set();
    std::chrono::milliseconds previous{0};
    for (std::uint32_t attempt = 1; !stop_.is_set() && !gave_up(); ++attempt) {
        auto conn = store::pg::Connection::open(options_.pg);
        if (conn) {
            conn_.emplace(std::move(*conn));
            reconnected_ = true;
            reconnects_.fetch_add(1, std::memory_order_relaxed);
            log_.warn("txflow cluster {}: reconnected to {} after {} attempt(s)", role_, conn_->where(), attempt);
            return true;
        }
        // The policy's attempt count does not apply: a worker keeps trying
        // (capped delays) until the server is back or it is stopped.
        const auto delay = backoff_delay(options_.reconnect_backoff, attempt, previous, rng_);
        previous = delay;
        log_.warn("txflow cluster {}: reconnect attempt {} failed ({}); next in {} ms", role_, attempt,
                  conn.error().message, delay.count());
        const auto left = std::chrono::steady_clock::duration(give_up_at_.load(std::memory_order_relaxed)) -
                          std::chrono::steady_clock::now().time_since_epoch();
        const auto wait = std::min<std::chrono::milliseconds>(
            delay, std::chrono::duration_cast<std::chrono::milliseconds>(std::max(left, left.zero())));
        if (stop_.wait_for(wait)) break;
    }
    return false;
}

StoreResult<store::pg::Rows> Session::exec(std::string_view what, const std::string& sql,
                                           const store::pg::Params& params) {
    if (!conn_) {
        return unexpected(StoreError{StoreError::Code::closed, fmt::format("PostgreSQL: {}: not connected", what)});
    }
    auto rows = conn_->exec(what, sql, params);
    if (!rows && PQstatus(conn_->get()) == CONNECTION_BAD) lost(rows.error().message);
    return rows;
}

void Session::lost(const std::string& reason) {
    if (!conn_) return;
    log_.error("txflow cluster {}: connection lost ({}); reconnecting with backoff", role_, reason);
    conn_.reset();
}

}  // namespace txflow::cluster
