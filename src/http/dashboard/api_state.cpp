// GET /api/v1/queues, /api/v1/breakers and /api/v1/dead-letters.

#include <set>

#include "internal.hpp"

namespace txflow::http::dash {

Response queues(const Dashboard::Impl& d) {
    json items = json::array();
    for (const QueueStats& q : d.scheduler.queue_stats())
        items.push_back(
            {{"name", q.name},
             {"limit", q.limit},
             {"queued", q.queued},
             {"running", q.running},
             {"oldest_wait_ms", std::chrono::duration_cast<std::chrono::milliseconds>(q.oldest_wait).count()}});
    return json_response(json{{"queues", std::move(items)}});
}

Response breakers(const Dashboard::Impl& d) {
    std::set<std::string> names;
    for (std::string& n : d.scheduler.breaker_names()) names.insert(std::move(n));
    for (std::string& n : d.history->breakers()) names.insert(std::move(n));
    for (const std::string& n : d.options.breakers) names.insert(n);
    json items = json::array();
    for (const std::string& name : names) {
        const auto breaker = d.scheduler.breaker(name);
        if (!breaker) continue;
        const BreakerStats stats = breaker->stats();
        items.push_back({{"name", name},
                         {"state", to_string(stats.state)},
                         {"calls", stats.calls},
                         {"failures", stats.failures},
                         {"slow_calls", stats.slow_calls},
                         {"failure_rate", stats.failure_rate},
                         {"window", breaker->options().window},
                         {"min_calls", breaker->options().min_calls},
                         {"failure_rate_limit", breaker->options().failure_rate}});
    }
    return json_response(json{{"breakers", std::move(items)}});
}

Response dead_letters(const Dashboard::Impl& d) {
    json items = json::array();
    for (const DeadLetter& dl : d.scheduler.dead_letters())
        items.push_back({{"id", dl.id},
                         {"job", dl.job},
                         {"scheduled", epoch_ms(dl.scheduled)},
                         {"attempts", dl.attempts},
                         {"error", dl.error},
                         {"failed_at", epoch_ms(dl.failed_at)}});
    return json_response(json{{"dead_letters", std::move(items)}});
}

}  // namespace txflow::http::dash
