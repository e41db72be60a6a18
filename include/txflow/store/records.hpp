#pragma once
// The records txflow writes to a Store, and their payload encoding.

#include <cstdint>
#include <string>

#include "txflow/store/store.hpp"

namespace txflow::store {

// One JSON object for a record, for `txflow wal dump` and logs:
// {"seq":12,"type":"step_state","saga":"order-42",...}. Unknown types and
// payloads that do not decode are shown as hex, never dropped.
[[nodiscard]] std::string record_to_json(const Record& record);

}  // namespace txflow::store
