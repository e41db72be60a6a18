// Read-only views for dashboards: named breakers and queue figures.

#include "scheduler/introspect.hpp"

#include "scheduler/impl.hpp"

namespace txflow {

std::vector<QueueStats> SagaHost::queue_stats(const Scheduler& s) {
    return s.impl_->executor.queue_stats();
}

std::vector<std::string> SagaHost::breaker_names(const Scheduler& s) {
    return s.impl_->breakers.names();
}

std::vector<QueueStats> detail::queue_stats(const Scheduler& scheduler) {
    return SagaHost::queue_stats(scheduler);
}

std::vector<std::string> detail::breaker_names(const Scheduler& scheduler) {
    return SagaHost::breaker_names(scheduler);
}

}  // namespace txflow
