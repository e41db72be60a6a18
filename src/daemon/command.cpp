// The command runner: posix_spawn (no fork of a threaded process, no shell;
// fork only to run as another user: child_setup.hpp),
// pipes read with poll(), SIGTERM then SIGKILL to the child's process group
// on a stop request, and a guard that reaps the child whatever happens.

#include "txflow/daemon/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "account.hpp"
#include "child_setup.hpp"

extern char** environ;  // NOLINT: POSIX

namespace txflow::daemon {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// A file descriptor that closes itself.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool valid() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

struct Pipe {
    Fd read;
    Fd write;
};

Pipe make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
    return {Fd(fds[0]), Fd(fds[1])};
}

// Kills and reaps the child if run_command leaves early (an exception from
// a callback, say): never a zombie, never an orphaned group left running.
class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    ~ChildGuard() {
        if (pid_ <= 0) return;
        ::kill(-pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    void reaped() { pid_ = -1; }

private:
    pid_t pid_;
};

// Splits a stream into lines for the callback.
class LineSplitter {
public:
    LineSplitter(Stream stream, const RunOptions& options) : stream_(stream), options_(options) {}

    void feed(std::string_view data) {
        buffer_.append(data);
        std::size_t start = 0;
        while (true) {
            const std::size_t nl = buffer_.find('\n', start);
            if (nl == std::string::npos) break;
            emit(std::string_view(buffer_).substr(start, nl - start));
            start = nl + 1;
        }
        buffer_.erase(0, start);
        // A line without its end yet: pass on what fills a piece, keep the rest.
        const std::size_t piece = options_.max_line;
        if (piece > 0 && buffer_.size() >= piece) {
            const std::size_t whole = buffer_.size() / piece * piece;
            for (std::size_t at = 0; at < whole; at += piece) deliver(std::string_view(buffer_).substr(at, piece));
            buffer_.erase(0, whole);
        }
    }
    void finish() {
        if (!buffer_.empty()) emit(buffer_);
        buffer_.clear();
    }

private:
    void emit(std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::size_t piece = options_.max_line;
        while (piece > 0 && line.size() > piece) {
            deliver(line.substr(0, piece));
            line.remove_prefix(piece);
        }
        deliver(line);
    }
    void deliver(std::string_view piece) {
        if (options_.on_line) options_.on_line(stream_, piece);
    }
    Stream stream_;
    const RunOptions& options_;
    std::string buffer_;
};

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string join_path(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + '/' + name;
}

// Where argv[0] is: as written when it has a '/' (relative to the command's
// cwd), else the first executable match in PATH (the command's own PATH if it
// sets one). An error reason when it cannot be run.
Result<std::string, std::string> find_program(const std::string& name, const std::string& cwd,
                                              const std::string& path_var) {
    if (name.find('/') != std::string::npos) {
        const std::string full = name.front() == '/' ? name : join_path(cwd, name);
        struct stat st {};
        if (::stat(full.c_str(), &st) != 0)
            return unexpected(fmt::format("cannot run \"{}\": {}", name, std::strerror(errno)));
        if (!S_ISREG(st.st_mode)) return unexpected(fmt::format("cannot run \"{}\": not a regular file", name));
        if (::access(full.c_str(), X_OK) != 0)
            return unexpected(fmt::format("cannot run \"{}\": {}", name, std::strerror(errno)));
        return full;
    }
    std::string_view rest = path_var;
    while (true) {
        const std::size_t colon = rest.find(':');
        // An empty PATH entry is the current directory.
        std::string dir(colon == 0 || rest.empty() ? std::string_view(".") : rest.substr(0, colon));
        if (dir.front() != '/') dir = join_path(cwd, dir);
        const std::string candidate = join_path(dir, name);
        if (is_executable_file(candidate)) return candidate;
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return unexpected(fmt::format("cannot run \"{}\": not found in PATH", name));
}

// systemd's messages to the service itself (sd_notify, the watchdog): a
// command that inherited them could report READY or STOPPING for the daemon.
bool systemd_only(std::string_view name) {
    return name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" || name == "WATCHDOG_PID";
}

// The daemon's environment (all of it, or only the allowed names, never
// systemd's NOTIFY_SOCKET / WATCHDOG_* unless a command allows them), then the
// user's HOME, USER and LOGNAME when it runs as another user, the command's
// env, and the caller's extra variables: later ones win.
std::map<std::string, std::string> build_env(const Command& command, const RunOptions& options,
                                             const detail::Account* account) {
    std::map<std::string, std::string> env;
    const bool inherit = options.inherit_env && command.inherit_env;
    const auto allowed = [&](const std::string& name) {
        return std::find(command.env_allow.begin(), command.env_allow.end(), name) != command.env_allow.end();
    };
    if (environ != nullptr) {
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string_view entry(*e);
            const std::size_t eq = entry.find('=');
            if (eq == std::string_view::npos || eq == 0) continue;
            std::string name(entry.substr(0, eq));
            if (!inherit && !allowed(name)) continue;
            if (systemd_only(name) && !allowed(name)) continue;
            env.emplace(std::move(name), std::string(entry.substr(eq + 1)));
        }
    }
    if (account != nullptr && account->uid) {
        env["HOME"] = account->home;
        env["USER"] = account->name;
        env["LOGNAME"] = account->name;
    }
    for (const auto& [k, v] : command.env) env[k] = v;
    for (const auto& [k, v] : options.extra_env) env[k] = v;
    return env;
}

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl");
}

// Reads what is available; false at end of file.
bool drain(int fd, LineSplitter& lines) {
    std::array<char, 16 * 1024> buf{};
    while (true) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) {
            lines.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return errno == EAGAIN;  // (== EWOULDBLOCK on Linux) any other error: treat as closed
    }
}

Fd open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) return Fd(static_cast<int>(fd));
#else
    (void)pid;
#endif
    return {};  // an older kernel: fall back to polling waitpid
}

class SpawnActions {
public:
    SpawnActions() {
        if (const int rc = ::posix_spawn_file_actions_init(&fa_); rc != 0)
            throw std::system_error(rc, std::generic_category(), "posix_spawn_file_actions_init");
    }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    ~SpawnActions() { ::posix_spawn_file_actions_destroy(&fa_); }
    posix_spawn_file_actions_t* get() { return &fa_; }
    void check(int rc, const char* what) {
        if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
    }

private:
    posix_spawn_file_actions_t fa_{};
};

class SpawnAttr {
public:
    SpawnAttr() {
        if (const int rc = ::posix_spawnattr_init(&attr_); rc != 0)
            throw std::system_error(rc, std::generic_category(), "posix_spawnattr_init");
    }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
    ~SpawnAttr() { ::posix_spawnattr_destroy(&attr_); }
    posix_spawnattr_t* get() { return &attr_; }

private:
    posix_spawnattr_t attr_{};
};

// posix_spawn with the child's setup (command.hpp); its error number.
int spawn(const std::string& program, const std::string& cwd, std::vector<char*>& argv, std::vector<char*>& envp,
          const Pipe& out, const Pipe& err, pid_t& pid) {
    SpawnActions actions;
    actions.check(::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0),
                  "posix_spawn_file_actions_addopen");
    actions.check(::posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), STDOUT_FILENO),
                  "posix_spawn_file_actions_adddup2");
    actions.check(::posix_spawn_file_actions_adddup2(actions.get(), err.write.get(), STDERR_FILENO),
                  "posix_spawn_file_actions_adddup2");
    if (!cwd.empty()) {
        actions.check(::posix_spawn_file_actions_addchdir_np(actions.get(), cwd.c_str()),
                      "posix_spawn_file_actions_addchdir_np");
    }
    SpawnAttr attr;
    sigset_t none;
    sigset_t all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    ::posix_spawnattr_setsigmask(attr.get(), &none);
    ::posix_spawnattr_setsigdefault(attr.get(), &all);
    ::posix_spawnattr_setpgroup(attr.get(), 0);  // its own group, so a stop reaches its children too
    ::posix_spawnattr_setflags(
        attr.get(), static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));

    return ::posix_spawn(&pid, program.c_str(), actions.get(), attr.get(), argv.data(), envp.data());
}

}  // namespace

std::string signal_name(int signal) {
    if (const char* abbrev = ::sigabbrev_np(signal)) return fmt::format("SIG{}", abbrev);
    return fmt::format("signal {}", signal);
}

std::string CommandResult::describe() const {
    switch (status) {
        case Status::exited: return fmt::format("exit code {}", exit_code);
        case Status::signaled: return fmt::format("killed by signal {} ({})", signal, signal_name(signal));
        case Status::failed_to_start: return error;
    }
    return error;
}

CommandResult run_command(const Command& command, const RunOptions& options) {
    CommandResult result;
    const auto started = Clock::now();
    const auto finish = [&]() -> CommandResult {
        result.duration = Clock::now() - started;
        return result;
    };
    if (command.argv.empty()) {
        result.error = "empty argv";
        return finish();
    }
    if (options.stop.stop_requested()) {
        result.stop_requested = true;
        result.error = "stopped before it started";
        return finish();
    }

    if (!command.cwd.empty()) {
        struct stat st {};
        if (::stat(command.cwd.c_str(), &st) != 0) {
            result.error = fmt::format("working directory \"{}\": {}", command.cwd, std::strerror(errno));
            return finish();
        }
        if (!S_ISDIR(st.st_mode)) {
            result.error = fmt::format("working directory \"{}\": not a directory", command.cwd);
            return finish();
        }
    }

    std::optional<detail::Account> account;
    if (!command.user.empty() || !command.group.empty()) {
        auto resolved = detail::resolve_account(command.user, command.group);
        if (!resolved) {
            result.error = fmt::format("cannot run \"{}\": {}", command.argv.front(), resolved.error());
            return finish();
        }
        account = std::move(*resolved);
    }
    const std::map<std::string, std::string> env = build_env(command, options, account ? &*account : nullptr);
    const auto path_it = env.find("PATH");
    char cwd_buf[4096];
    const std::string base = !command.cwd.empty()                           ? command.cwd
                             : ::getcwd(cwd_buf, sizeof cwd_buf) != nullptr ? std::string(cwd_buf)
                                                                            : std::string(".");
    auto program = find_program(command.argv.front(), base,
                                path_it != env.end() ? path_it->second : "/usr/local/bin:/usr/bin:/bin");
    if (!program) {
        result.error = std::move(program.error());
        return finish();
    }

    // Everything the child needs, built before it exists.
    std::vector<std::string> env_strings;
    env_strings.reserve(env.size());
    for (const auto& [k, v] : env) env_strings.push_back(k + '=' + v);
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = command.argv;
    std::vector<char*> argv;
    argv.reserve(argv_strings.size() + 1);
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    Pipe out = make_pipe();
    Pipe err = make_pipe();

    pid_t pid = 0;
    if (account) {
        detail::ChildSetup setup;
        setup.program = program->c_str();
        setup.argv = argv.data();
        setup.envp = envp.data();
        setup.cwd = command.cwd.empty() ? nullptr : command.cwd.c_str();
        setup.out = out.write.get();
        setup.err = err.write.get();
        setup.account = &*account;
        auto spawned = detail::spawn_as(setup);
        if (!spawned) {
            result.error = fmt::format("cannot run \"{}\": {}", command.argv.front(), spawned.error());
            return finish();
        }
        pid = *spawned;
    } else if (const int rc = spawn(*program, command.cwd, argv, envp, out, err, pid); rc != 0) {
        result.error = fmt::format("cannot run \"{}\": {}", command.argv.front(), std::strerror(rc));
        return finish();
    }
    ChildGuard guard(pid);
    out.write.reset();
    err.write.reset();
    set_nonblocking(out.read.get());
    set_nonblocking(err.read.get());

    // The stop token wakes the poll loop through an eventfd.
    Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake.valid()) throw_errno("eventfd");
    std::optional<std::stop_callback<std::function<void()>>> on_stop;
    on_stop.emplace(options.stop, std::function<void()>([fd = wake.get()] {
                        const std::uint64_t one = 1;
                        [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
                    }));
    Fd pidfd = open_pidfd(pid);

    LineSplitter out_lines(Stream::out, options);
    LineSplitter err_lines(Stream::err, options);
    bool out_open = true;
    bool err_open = true;
    bool terminating = false;
    bool kill_pending = false;  // SIGTERM sent, SIGKILL due at kill_at
    Clock::time_point kill_at{};
    int status = 0;
    bool exited = false;
    bool lost = false;

    while (!exited) {
        std::array<pollfd, 4> fds{};
        nfds_t n = 0;
        const auto watch = [&](int fd) {
            fds[n] = pollfd{fd, POLLIN, 0};
            ++n;
        };
        if (out_open) watch(out.read.get());
        if (err_open) watch(err.read.get());
        if (!terminating) watch(wake.get());
        if (pidfd.valid()) watch(pidfd.get());

        int timeout_ms = pidfd.valid() ? -1 : 50;
        if (kill_pending) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(kill_at - Clock::now()).count();
            const int left_ms = static_cast<int>(std::clamp<std::int64_t>(left, 0, 60'000));
            timeout_ms = timeout_ms < 0 ? left_ms : std::min(timeout_ms, left_ms);
        }
        const int ready = ::poll(fds.data(), n, timeout_ms);
        if (ready < 0 && errno != EINTR) throw_errno("poll");

        if (out_open) out_open = drain(out.read.get(), out_lines);
        if (err_open) err_open = drain(err.read.get(), err_lines);

        if (!terminating && options.stop.stop_requested()) {
            terminating = true;
            result.stop_requested = true;
            ::kill(-pid, SIGTERM);
            kill_at = Clock::now() + options.kill_grace;
            kill_pending = true;
        }
        if (kill_pending && Clock::now() >= kill_at) {
            ::kill(-pid, SIGKILL);
            result.killed = true;
            kill_pending = false;
        }

        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            exited = true;
        } else if (w < 0 && errno != EINTR) {
            // ECHILD: someone else reaped it (SIGCHLD ignored); the status is unknown.
            exited = true;
            lost = true;
        }
    }
    guard.reaped();
    on_stop.reset();

    // What the child wrote before it ended is in the pipes; background
    // processes it left holding them are not waited for.
    if (out_open) drain(out.read.get(), out_lines);
    if (err_open) drain(err.read.get(), err_lines);
    out_lines.finish();
    err_lines.finish();

    if (lost) {
        result.status = CommandResult::Status::failed_to_start;
        result.error = "the child's exit status was lost (SIGCHLD is ignored)";
    } else if (WIFEXITED(status)) {
        result.status = CommandResult::Status::exited;
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.status = CommandResult::Status::signaled;
        result.signal = WTERMSIG(status);
    }
    return finish();
}

}  // namespace txflow::daemon
