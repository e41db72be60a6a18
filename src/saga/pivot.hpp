#pragma once
// Pivots: a step marked no_compensation cannot be undone, so once it may have
// acted (it succeeded, or an attempt was cut short by a restart or its
// timeout) the saga can only go forward. It is never compensated past such a
// step: undoing the steps before it would leave the pivot's effect next to
// undone ones (a half state). Steps after a pivot are expected to be retryable.

#include <cstddef>
#include <optional>
#include <string>

namespace txflow::saga {

struct Instance;

// The latest pivot that may have acted with a step before it (or beside it, in
// its parallel group) that still has something to undo: compensating would
// cross it, so the saga parks for an operator instead.
[[nodiscard]] std::optional<std::size_t> pivot_blocking_compensation(const Instance& in);

// Recovery::compensate does not apply when this names a pivot: one was
// interrupted by the restart (it runs again, same idempotency key), or
// compensating would cross one.
[[nodiscard]] std::optional<std::size_t> pivot_forcing_forward(const Instance& in);

// An interrupted step that fails for good stays running rather than failed: a
// compensable one so that its compensation undoes what the cut-short attempt
// may have done; a pivot so that compensation is not run past it.
[[nodiscard]] bool stays_running_when_failed(const Instance& in, std::size_t step);

// Why the saga parks instead of compensating past `pivot`.
[[nodiscard]] std::string not_compensated_past(const Instance& in, std::size_t pivot);

// What happens next to a saga that failed going forward: "compensating", or
// why it waits for an operator.
[[nodiscard]] std::string failure_plan(const Instance& in);

// What the recovery log line says will happen to a recovered saga.
[[nodiscard]] std::string recovery_plan(const Instance& in);

}  // namespace txflow::saga
