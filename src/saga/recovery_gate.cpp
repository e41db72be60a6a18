#include "saga/recovery_gate.hpp"

namespace txflow::saga {

void RecoveryGate::enter(Submit submit) {
    {
        const std::lock_guard lock(mutex_);
        if (active_ >= limit_) {
            waiting_.push_back(std::move(submit));
            return;
        }
        ++active_;
    }
    if (!submit()) leave();
}

void RecoveryGate::leave() {
    for (;;) {
        Submit next;
        {
            const std::lock_guard lock(mutex_);
            if (waiting_.empty()) {
                --active_;
                return;
            }
            next = std::move(waiting_.front());
            waiting_.pop_front();
        }
        if (next()) return;  // the slot passed to it; a refused one passes it on
    }
}

}  // namespace txflow::saga
