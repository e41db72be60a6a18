#pragma once
// The user and group a command runs as (private to src/daemon), resolved in
// the parent: after fork() the child may only make async-signal-safe calls,
// so initgroups() (which reads /etc/group) is done here as getgrouplist().

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "txflow/result.hpp"

namespace txflow::daemon::detail {

struct Account {
    std::optional<uid_t> uid;  // empty: keep the daemon's
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary, the primary included
    std::string name;           // for USER and LOGNAME; empty without a user
    std::string home;           // for HOME; empty without a user
    std::string describe;       // "user nobody", "group adm": for messages
};

// `user` and `group` as a schedule file gives them (a name or a number; either
// may be empty, not both). The reason when one does not exist.
[[nodiscard]] Result<Account, std::string> resolve_account(const std::string& user, const std::string& group);

}  // namespace txflow::daemon::detail
