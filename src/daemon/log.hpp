#pragma once
// Structured fields for the daemon's log lines (private to src/daemon).
//
// spdlog passes only a message string to its formatter, so the fields of a
// line (job, stream, ...) travel in a thread-local set just around the
// logger call: the daemon's loggers are synchronous, and a synchronous sink
// formats on the calling thread, inside that call.

#include <spdlog/spdlog.h>

#include <string_view>

namespace txflow::daemon::detail {

struct LogFields {
    std::string_view job;
    std::string_view saga;     // the definition's name
    std::string_view saga_id;  // an instance
    std::string_view step;
    std::string_view stream;  // "stdout" / "stderr"
    bool compensating = false;
};

// Logs `message` with `fields` attached.
void log_with(spdlog::logger& logger, spdlog::level::level_enum level, const LogFields& fields,
              std::string_view message);

}  // namespace txflow::daemon::detail
