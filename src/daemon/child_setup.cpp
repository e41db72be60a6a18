// fork/exec with a change of user (child_setup.hpp).

#include "child_setup.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

namespace txflow::daemon::detail {
namespace {

// What the child reports when a step fails: which one, and errno.
enum class Step : int { setpgid, devnull, dup, chdir, setgroups, setgid, setuid, exec };

const char* step_name(Step s) {
    switch (s) {
        case Step::setpgid: return "setpgid";
        case Step::devnull: return "open /dev/null";
        case Step::dup: return "dup2";
        case Step::chdir: return "chdir";
        case Step::setgroups: return "setgroups";
        case Step::setgid: return "setgid";
        case Step::setuid: return "setuid";
        case Step::exec: return "exec";
    }
    return "setup";
}

struct Report {
    Step step;
    int error;
};

[[noreturn]] void child(const ChildSetup& s, int report_fd) {
    const auto fail = [report_fd](Step step) {
        const Report r{step, errno};
        [[maybe_unused]] const ssize_t n = ::write(report_fd, &r, sizeof r);
        ::_exit(127);
    };
    if (::setpgid(0, 0) != 0) fail(Step::setpgid);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // fails for glibc's reserved ones
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null < 0) fail(Step::devnull);
    if (::dup2(null, STDIN_FILENO) < 0) fail(Step::dup);
    if (null != STDIN_FILENO) ::close(null);
    if (::dup2(s.out, STDOUT_FILENO) < 0 || ::dup2(s.err, STDERR_FILENO) < 0) fail(Step::dup);
    const Account& a = *s.account;
    // Groups before the user: once setuid() has dropped root they cannot change.
    if (::setgroups(a.groups.size(), a.groups.data()) != 0) fail(Step::setgroups);
    if (::setgid(a.gid) != 0) fail(Step::setgid);
    if (a.uid && ::setuid(*a.uid) != 0) fail(Step::setuid);
    // As the user: a directory it may not enter is refused, not entered by root.
    if (s.cwd != nullptr && ::chdir(s.cwd) != 0) fail(Step::chdir);
    ::execve(s.program, s.argv, s.envp);
    fail(Step::exec);
    ::_exit(127);  // not reached
}

}  // namespace

Result<pid_t, std::string> spawn_as(const ChildSetup& setup) {
    std::array<int, 2> report{};
    if (::pipe2(report.data(), O_CLOEXEC) != 0) return unexpected(fmt::format("pipe: {}", std::strerror(errno)));
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(report[0]);
        ::close(report[1]);
        return unexpected(fmt::format("fork: {}", std::strerror(e)));
    }
    if (pid == 0) {
        ::close(report[0]);
        child(setup, report[1]);
    }
    ::close(report[1]);
    ::setpgid(pid, pid);  // also here: a stop right after must reach the group (EACCES after exec is fine)
    Report r{};
    ssize_t n = 0;
    do {
        n = ::read(report[0], &r, sizeof r);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n != static_cast<ssize_t>(sizeof r)) return pid;  // closed by exec: it runs
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string as = setup.account->describe;
    if (r.step == Step::exec) return unexpected(fmt::format("exec as {}: {}", as, std::strerror(r.error)));
    if (r.step == Step::chdir) {
        return unexpected(fmt::format("working directory \"{}\" as {}: {}", setup.cwd, as, std::strerror(r.error)));
    }
    return unexpected(fmt::format("cannot switch to {}: {}: {}", as, step_name(r.step), std::strerror(r.error)));
}

}  // namespace txflow::daemon::detail
