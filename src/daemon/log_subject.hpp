#pragma once
// The job, saga and step a library log line is about, read back from its
// message (private to src/daemon). The scheduler and the saga engine log
// "job 'backup' attempt 2 failed: ..." and "saga 'order-7': compensation of
// step 'charge' failed ..." through the daemon's logger without LogFields;
// the JSON format still gives them "job", "saga_id" and "step" fields.

#include <string_view>

#include "log.hpp"
#include "txflow/core/export.hpp"

namespace txflow::daemon::detail {

// Fields viewing into `message`; empty where the message names none.
[[nodiscard]] TXFLOW_EXPORT LogFields fields_in_message(std::string_view message);

}  // namespace txflow::daemon::detail
