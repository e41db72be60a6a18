#pragma once
/// @file
/// Running a schedule file's commands: argv with an environment and a working
/// directory, no shell, output read line by line, cancellable through a
/// std::stop_token.
///
///     txflow::daemon::RunOptions opts;
///     opts.stop = ctx.stop_token();                         // a job's timeout requests it
///     opts.on_line = [](Stream s, std::string_view line) { ... };
///     auto result = txflow::daemon::run_command(cmd, opts);
///     if (!result.ok()) throw std::runtime_error(result.describe());  // "exit code 3"
///
/// The child runs in a process group of its own with stdin from /dev/null,
/// default signal dispositions and an empty signal mask (whatever the daemon
/// blocks for sigwait is not inherited). A command with a user or group is
/// started with fork() instead of posix_spawn, and setgroups (the user's
/// groups), setgid, setuid before exec; a failure there is failed_to_start
/// with the reason ("cannot switch to user nobody: setuid: ..."). As another
/// user, HOME, USER and LOGNAME are that user's. When `stop` is requested the group is
/// sent SIGTERM, then SIGKILL after `kill_grace`. run_command() returns only
/// once the child has been reaped: it never leaves a zombie. Processes the
/// child leaves behind in the background are not waited for.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/schedule_file/schedule.hpp"

namespace txflow::daemon {

using schedule_file::Command;  ///< what to run, as a schedule file says it

/// Which output stream a line came from.
enum class Stream : std::uint8_t { out, err };
/// "stdout" or "stderr".
[[nodiscard]] constexpr std::string_view to_string(Stream s) {
    return s == Stream::out ? "stdout" : "stderr";
}

/// How run_command() runs a command: cancellation, output and environment.
struct TXFLOW_EXPORT RunOptions {
    std::stop_token stop;  ///< on request: SIGTERM to the process group, then SIGKILL after kill_grace
    std::chrono::milliseconds kill_grace{5000};  ///< SIGTERM, then SIGKILL after this
    /// Called with each line of output (without its newline; a trailing CR
    /// is dropped), on the calling thread. A line longer than max_line is
    /// passed on in pieces.
    std::function<void(Stream, std::string_view)> on_line;
    std::size_t max_line = 64 * 1024;  ///< longer lines reach on_line in pieces of this size
    /// Variables set on top of the command's own env (TXFLOW_JOB, ...).
    std::map<std::string, std::string> extra_env;
    /// The daemon's environment is the base the command's env adds to; false
    /// (or the command's own inherit_env false) keeps only the variables the
    /// command's env_allow names.
    bool inherit_env = true;
};

/// How a command ended.
struct TXFLOW_EXPORT CommandResult {
    /// Whether it exited, was killed by a signal, or never started.
    enum class Status : std::uint8_t {
        exited,          ///< exit_code set
        signaled,        ///< signal set
        failed_to_start  ///< error set (no such program, bad cwd, ...)
    };
    Status status = Status::failed_to_start;  ///< how it ended
    int exit_code = -1;                       ///< exited: its exit code
    int signal = 0;                           ///< signaled: the signal number
    std::string error;                        ///< failed_to_start: why
    bool stop_requested = false;              ///< the stop token fired while it ran
    bool killed = false;                      ///< it outlived kill_grace and got SIGKILL
    std::chrono::nanoseconds duration{0};     ///< from start to reaping

    /// True for exit code 0.
    [[nodiscard]] bool ok() const { return status == Status::exited && exit_code == 0; }
    /// "exit code 3", "killed by signal 15 (SIGTERM)", "cannot run \"foo\": not found in PATH"
    [[nodiscard]] std::string describe() const;
};

/// Blocks until the command has ended and been reaped. Never throws for a
/// command that fails; throws std::system_error only if the process cannot
/// be set up at all (pipes, memory).
[[nodiscard]] TXFLOW_EXPORT CommandResult run_command(const Command& command, const RunOptions& options);

/// "SIGTERM" for 15; "signal 42" for one without a name.
[[nodiscard]] TXFLOW_EXPORT std::string signal_name(int signal);

}  // namespace txflow::daemon
