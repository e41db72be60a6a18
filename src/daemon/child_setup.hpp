#pragma once
// Starting a command as another user (private to src/daemon): posix_spawn
// cannot change the user, so fork() and, in the child, only async-signal-safe
// calls on what the parent prepared: its own process group, no blocked or
// handled signals, stdin from /dev/null, the output pipes, the working
// directory, setgroups/setgid/setuid, exec. A step that fails is reported
// back through a close-on-exec pipe, so the caller gets the reason
// ("setuid: Operation not permitted") instead of a bare exit status.

#include <sys/types.h>

#include <string>

#include "account.hpp"
#include "txflow/result.hpp"

namespace txflow::daemon::detail {

struct ChildSetup {
    const char* program = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;  // null: the daemon's
    int out = -1;               // becomes stdout
    int err = -1;               // becomes stderr
    const Account* account = nullptr;
};

// The child's pid once it has exec'd, or why it could not start (it has
// then been reaped).
[[nodiscard]] Result<pid_t, std::string> spawn_as(const ChildSetup& setup);

}  // namespace txflow::daemon::detail
