// Resolving a command's user and group (account.hpp).

#include "account.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace txflow::daemon::detail {
namespace {

std::optional<unsigned long> number(const std::string& s) {
    unsigned long n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return n;
}

std::vector<char> buffer() {
    const long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    return std::vector<char>(size > 0 ? static_cast<std::size_t>(size) : 16384U);
}

}  // namespace

Result<Account, std::string> resolve_account(const std::string& user, const std::string& group) {
    Account a;
    if (!user.empty()) {
        passwd pw{};
        passwd* found = nullptr;
        std::vector<char> buf = buffer();
        const auto id = number(user);
        const int rc = id ? ::getpwuid_r(static_cast<uid_t>(*id), &pw, buf.data(), buf.size(), &found)
                          : ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
        if (found != nullptr) {
            a.uid = pw.pw_uid;
            a.gid = pw.pw_gid;
            a.name = pw.pw_name;
            a.home = pw.pw_dir;
        } else if (id && group.empty()) {
            return unexpected(fmt::format("user {} has no passwd entry: give a \"group\" too", user));
        } else if (id) {
            a.uid = static_cast<uid_t>(*id);
            a.name = user;
            a.home = "/";
        } else {
            return unexpected(rc != 0 ? fmt::format("cannot look up user '{}': {}", user, std::strerror(rc))
                                      : fmt::format("no user '{}' on this system", user));
        }
        a.describe = fmt::format("user {}", user);
    }
    if (!group.empty()) {
        ::group gr{};
        ::group* found = nullptr;
        std::vector<char> buf = buffer();
        const auto id = number(group);
        const int rc = id ? ::getgrgid_r(static_cast<gid_t>(*id), &gr, buf.data(), buf.size(), &found)
                          : ::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found);
        if (found != nullptr) a.gid = gr.gr_gid;
        else if (id) a.gid = static_cast<gid_t>(*id);
        else
            return unexpected(rc != 0 ? fmt::format("cannot look up group '{}': {}", group, std::strerror(rc))
                                      : fmt::format("no group '{}' on this system", group));
        a.describe += fmt::format("{}group {}", a.describe.empty() ? "" : " and ", group);
    }
    if (user.empty()) {
        a.groups = {a.gid};  // a group alone: only that one
        return a;
    }
    // initgroups(), done here: the user's groups, the chosen primary first.
    int count = 32;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    while (::getgrouplist(a.name.c_str(), a.gid, groups.data(), &count) < 0) {
        if (count > 65536) break;
        groups.resize(static_cast<std::size_t>(count) * 2);
        count = static_cast<int>(groups.size());
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 0)));
    if (std::find(groups.begin(), groups.end(), a.gid) == groups.end()) groups.insert(groups.begin(), a.gid);
    a.groups = std::move(groups);
    return a;
}

}  // namespace txflow::daemon::detail
