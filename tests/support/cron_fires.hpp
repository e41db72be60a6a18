#pragma once
// Walks a schedule's fires for tests that compare them as UTC text.

#include <optional>
#include <string>
#include <vector>

#include "support/cron_reference.hpp"
#include "txflow/cron/schedule.hpp"

namespace txflow::cron_test {

// The next `count` fires after `from`, as UTC text; "nullopt" ends a short list.
inline std::vector<std::string> fires(const cron::Schedule& s, cron::Instant from, int count) {
    std::vector<std::string> out;
    std::optional<cron::Instant> t = from;
    for (int i = 0; i < count; ++i) {
        t = s.next(*t);
        if (!t) {
            out.emplace_back("nullopt");
            break;
        }
        out.push_back(cron_ref::utc_text(*t));
    }
    return out;
}

}  // namespace txflow::cron_test
