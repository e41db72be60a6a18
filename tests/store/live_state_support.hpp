#pragma once
// Feeding records to a LiveState in tests, as the WAL's replay does.

#include <cstdint>
#include <string>

#include "store/live_state.hpp"
#include "store/record_types.hpp"

namespace txflow::test {

// Encodes `r` and folds it in; false (and why) when the state refuses it.
template <class R>
bool fold(store::LiveState& s, const R& r, std::string* why = nullptr) {
    return s.apply(static_cast<std::uint16_t>(R::type), store::encode(r), why);
}

}  // namespace txflow::test
