#include "cluster/services.hpp"

#include <array>
#include <optional>

namespace txflow::cluster {

Millis Cleaner::tick(Session& session) {
    const auto& o = shared_.options;
    const std::array<std::pair<const char*, std::optional<std::chrono::seconds>>, 3> states{{
        {"completed", o.retention.completed},
        {"discarded", o.retention.discarded},
        {"cancelled", o.retention.cancelled},
    }};
    // One batch of one state per tick, so the heartbeat on this thread is never kept waiting long.
    for (std::size_t tried = 0; tried < states.size(); ++tried, state_ = (state_ + 1) % states.size()) {
        const auto& [state, keep] = states[state_];
        if (!keep) continue;
        auto deleted = delete_finished(session, shared_.tables, state, *keep, o.delete_batch);
        if (!deleted) {
            if (session.connected()) shared_.log->error("txflow cluster cleaner: {}", deleted.error().message);
            return o.retention_interval;
        }
        shared_.counters.deleted.fetch_add(*deleted, std::memory_order_relaxed);
        if (*deleted == static_cast<std::uint64_t>(o.delete_batch)) return Millis(0);  // more of this state
    }
    state_ = 0;
    return o.retention_interval;
}

}  // namespace txflow::cluster
