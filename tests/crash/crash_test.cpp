// The crash test of issue #6. Each iteration forks a child that runs sagas
// (started in a loop, and by a cron job and an `every` job) on a WalStore,
// SIGKILLs it at a random instant (20-400 ms after it acknowledged its first
// saga start), then recovers in this process on the same WAL directory and
// checks that:
//   (a) no transition the child saw acknowledged is lost: a step action runs
//       only once its `running` record is durable, a compensation only once its
//       `compensating` record is, start_saga returns once the saga is recorded,
//       and a state wait()/wait_saga() reported is the state the log holds;
//   (b) every saga ends succeeded or compensated;
//   (c) the ledger (a file every effect is appended to, by idempotency key)
//       balances: a succeeded saga's effects all stand, a compensated saga's
//       are all undone, and no effect was made under a key that belongs to no
//       saga (a step that ran again ran under the same key);
//   (d) the WAL has no corruption (a torn tail is what a crash leaves: fine);
//   (e) the iteration did work: the log holds a saga; and over a run of 10 or
//       more iterations at least half the kills landed mid-step (a step or a
//       compensation recorded running, its end not).
//
// Run: `txflow_crash_tests` (20 iterations, tag [crash]); the long run of 500
// is hidden: `txflow_crash_tests "[.crash-long]"` or `ctest -C long -L long`.
// TXFLOW_CRASH_ITERATIONS=n overrides the count, TXFLOW_CRASH_SEED=s the base
// seed (printed by every run; an iteration's seed is base + iteration), and
// TXFLOW_CRASH_KEEP=1 keeps the directories of passing iterations too.
//
// fork() in a test binary: the parent holds no thread of its own at fork time
// (each iteration's scheduler and store are gone before the next fork; the
// test checks /proc/self/status). The child uses no Catch2 assertion: it only
// works, and leaves by SIGKILL or by _exit(3) after writing why to a file.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/wal_store.hpp"

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::SagaRef;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::store::WalStore;
using txflow::test::quiet_logger;
namespace fs = std::filesystem;

namespace {

// ------------------------------------------------------------ deterministic chance

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t hash_of(std::uint64_t seed, std::string_view text, std::uint64_t salt = 0) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return mix(h ^ mix(seed ^ mix(salt)));
}

// True about `permille` times in 1000, the same for the same (seed, key, attempt, salt):
// the child and the recovering parent make the same decisions.
bool chance(std::uint64_t seed, std::string_view key, std::uint32_t attempt, std::uint64_t salt, unsigned permille) {
    return hash_of(seed, key, salt * 1000003 + attempt) % 1000 < permille;
}

long amount_of(std::string_view key) {
    return 1 + static_cast<long>(hash_of(7, key) % 100);
}

// ------------------------------------------------------------ files

// One line per write(2) on an O_APPEND descriptor: a line is all there or not at all.
class AppendFile {
public:
    explicit AppendFile(const fs::path& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) {}
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;
    ~AppendFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] bool ok() const { return fd_ >= 0; }
    // False if the line was not written whole.
    bool line(std::string text) const {
        text.push_back('\n');
        const auto n = ::write(fd_, text.data(), text.size());
        return n == static_cast<ssize_t>(text.size());
    }

private:
    int fd_;
};

// The child's way out: the reason to a file, then _exit(3) (no atexit handlers,
// no Catch2, no destructors of state shared with the parent's copy).
const char* g_child_error_path = nullptr;
[[noreturn]] void child_die(std::string_view why) {
    if (g_child_error_path != nullptr) {
        const int fd = ::open(g_child_error_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            [[maybe_unused]] const auto n = ::write(fd, why.data(), why.size());
            ::close(fd);
        }
    }
    ::_exit(3);
}

std::vector<std::string> read_lines(const fs::path& path, std::size_t* partial = nullptr) {
    std::ifstream in(path, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> lines;
    std::size_t begin = 0;
    for (std::size_t nl; (nl = all.find('\n', begin)) != std::string::npos; begin = nl + 1)
        lines.push_back(all.substr(begin, nl - begin));
    if (partial != nullptr) *partial = all.size() - begin;  // a line without its newline
    return lines;
}

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// ------------------------------------------------------------ the sagas

// What the steps write to. acks is the child's report of acknowledged
// transitions; the recovering parent passes none.
struct World {
    std::uint64_t seed = 0;
    const AppendFile* ledger = nullptr;
    const AppendFile* acks = nullptr;
};

// In the child a failed write ends the run (the parent then reports why); in
// the parent it is counted and checked after the iteration.
bool g_in_child = false;
std::atomic<int> g_parent_write_failures{0};
void must_write(const AppendFile& file, std::string text) {
    if (file.line(std::move(text))) return;
    if (g_in_child) child_die("a ledger or report write failed");
    ++g_parent_write_failures;
}

struct StepSpec {
    std::string name;
    unsigned fail_permille = 0;  // the action fails (before acting)
    unsigned hang_permille = 0;  // the first attempt hangs until its timeout stops it
    bool writes_data = false;    // the action records its amount in the saga's data
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<txflow::retry::Policy> retry;
};

constexpr unsigned kCompensationFailPermille = 250;

// Waits a little, so a kill lands between "running" and the effect too.
void dawdle(std::uint64_t seed, std::string_view key, std::uint32_t attempt) {
    std::this_thread::sleep_for(std::chrono::microseconds(hash_of(seed, key, 91 + attempt) % 1500));
}

txflow::saga::Step make_step(const World& w, const StepSpec& spec, std::vector<std::string> earlier_data) {
    txflow::saga::Step s;
    s.name = spec.name;
    s.timeout = spec.timeout;
    s.retry = spec.retry;
    s.action = [&w, spec, earlier_data](StepContext& ctx) {
        const std::string key(ctx.idempotency_key());
        if (w.acks != nullptr) must_write(*w.acks, "running " + key);
        // Data written by the steps that succeeded before this one is in the
        // saga's data, also after a crash (it is recorded with each success).
        for (const auto& field : earlier_data)
            if (!ctx.data().contains(field)) must_write(*w.ledger, "bad " + key + " data-lacks-" + field);
        dawdle(w.seed, key, ctx.attempt());
        if (ctx.attempt() == 1 && chance(w.seed, key, ctx.attempt(), 2, spec.hang_permille)) {
            const auto until = std::chrono::steady_clock::now() + 10s;
            while (!ctx.stop_token().stop_requested() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(1ms);
            return;  // stopped by the timeout: no effect, and the engine counts a failure
        }
        if (chance(w.seed, key, ctx.attempt(), 1, spec.fail_permille))
            throw std::runtime_error("injected failure, attempt " + std::to_string(ctx.attempt()));
        const long amount = amount_of(key);
        must_write(*w.ledger, "apply " + key + " " + std::to_string(amount));
        if (spec.writes_data) ctx.data()[spec.name] = amount;
        dawdle(w.seed, key, ctx.attempt() + 100);
    };
    s.compensation = [&w, name = spec.name](StepContext& ctx) {
        const std::string original = std::string(ctx.saga_id()) + "/" + name;
        if (w.acks != nullptr) must_write(*w.acks, "compensating " + original);
        dawdle(w.seed, ctx.idempotency_key(), ctx.attempt());
        if (chance(w.seed, ctx.idempotency_key(), ctx.attempt(), 3, kCompensationFailPermille))
            throw std::runtime_error("injected compensation failure");
        must_write(*w.ledger, "revert " + original + " " + std::to_string(amount_of(original)));
    };
    return s;
}

SagaRef make_definition(const World& w, const std::string& name, const std::vector<StepSpec>& specs,
                        txflow::saga::Recovery recovery) {
    std::vector<txflow::saga::Step> steps;
    std::vector<std::string> earlier_data;
    for (const auto& spec : specs) {
        steps.push_back(make_step(w, spec, earlier_data));
        if (spec.writes_data) earlier_data.push_back(spec.name);
    }
    txflow::saga::Options options;
    options.on_recovery = recovery;
    // Generous: at 1 in 4 failing, 200 attempts in a row never all fail, so no
    // saga may end compensation_failed.
    options.compensation_retry = txflow::retry::fixed(2ms).attempts(200);
    auto def = txflow::saga::Definition::create(name, std::move(steps), std::move(options));
    if (!def) throw std::runtime_error(def.error().to_string(name));
    return *def;
}

// "pay" resumes an interrupted step; "refund" compensates on recovery.
SagaRef make_pay(const World& w) {
    return make_definition(w, "pay",
                           {{"reserve", 150, 0, true, std::nullopt, txflow::retry::fixed(2ms).attempts(3)},
                            {"charge", 100, 30, false, 150ms, txflow::retry::fixed(3ms).attempts(3)},
                            {"ship", 120, 0, true, std::nullopt, txflow::retry::fixed(1ms).attempts(2)},
                            {"notify", 200, 0, false, std::nullopt, std::nullopt}},
                           txflow::saga::Recovery::resume);
}
SagaRef make_refund(const World& w) {
    return make_definition(w, "refund",
                           {{"lock", 100, 0, true, std::nullopt, txflow::retry::fixed(2ms).attempts(2)},
                            {"move", 200, 0, true, std::nullopt, txflow::retry::fixed(5ms).attempts(4)},
                            {"unlock", 250, 0, false, std::nullopt, std::nullopt}},
                           txflow::saga::Recovery::compensate);
}

bool stopped(State s) {
    return txflow::saga::is_terminal(s) || s == State::compensation_failed;
}

// Small, so that snapshots (and the compaction after them) happen, and a kill
// lands in one now and then.
constexpr std::uint64_t kSnapshotEvery = std::uint64_t{8} << 10;

txflow::store::WalOptions wal_options(const fs::path& dir) {
    txflow::store::WalOptions o;
    o.dir = dir;
    o.durability = txflow::store::Durability::every_record();
    o.segment_bytes = std::uint64_t{64} << 10;  // small segments: the child rotates them
    return o;
}

// ------------------------------------------------------------ one iteration

struct Paths {
    fs::path root;
    fs::path wal;
    fs::path ledger;
    fs::path acks;
    fs::path child_error;
    explicit Paths(fs::path r)
        : root(std::move(r)),
          wal(root / "wal"),
          ledger(root / "ledger.log"),
          acks(root / "acks.log"),
          child_error(root / "child-error.txt") {}
};

int saga_count_for(std::uint64_t seed) {
    return 20 + static_cast<int>(mix(seed ^ 0x5a) % 200);
}

[[noreturn]] void run_child(const Paths& p, std::uint64_t seed) {
    g_in_child = true;
    g_child_error_path = p.child_error.c_str();
    const AppendFile ledger(p.ledger);
    const AppendFile acks(p.acks);
    if (!ledger.ok() || !acks.ok()) child_die("cannot open the ledger or the report file");
    try {
        auto opened = WalStore::open(wal_options(p.wal));
        if (!opened) child_die("WalStore::open: " + opened.error().message);
        std::shared_ptr<WalStore> store = std::move(*opened);
        const World w{seed, &ledger, &acks};
        const std::size_t workers = 2 + mix(seed) % 3;
        Scheduler sched(SchedulerOptions{}
                            .workers(workers)
                            .logger(quiet_logger("crash"))
                            .store(store)
                            .seed(seed | 1)
                            .snapshot_every(kSnapshotEvery));
        const auto pay = make_pay(w);
        const auto refund = make_refund(w);
        sched.job("tick").cron("* * * * * *").run(pay, {{"via", "tick"}});
        sched.job("pulse").every(40ms).run(refund, {{"via", "pulse"}});
        sched.start();

        auto report = [&](const txflow::saga::Info& info) {
            if (stopped(info.state))
                must_write(acks, "terminal " + info.id + " " + std::string(txflow::saga::to_string(info.state)));
            return stopped(info.state);
        };
        // Sagas the jobs start are reported from the list, each through wait_saga.
        std::jthread reporter([&](const std::stop_token& token) {
            std::set<std::string> done;
            while (!token.stop_requested()) {
                for (const auto& listed : sched.sagas()) {
                    if (done.count(listed.id) != 0) continue;
                    if (auto info = sched.wait_saga(listed.id, 0ms); info && report(*info)) done.insert(listed.id);
                }
                std::this_thread::sleep_for(10ms);
            }
        });

        const int count = saga_count_for(seed);
        std::vector<txflow::SagaHandle> handles;
        for (int i = 0; i < count; ++i) {
            const bool refunds = i % 3 == 2;
            const std::string key = (refunds ? "r-" : "p-") + std::to_string(i);
            auto h = sched.start_saga(refunds ? refund : pay, {{"i", i}}, key);
            if (!h.created()) child_die("start_saga did not create " + key);
            must_write(acks, "started " + key);
            handles.push_back(std::move(h));
            std::this_thread::sleep_for(std::chrono::microseconds(hash_of(seed, key, 5) % 1500));
        }
        for (const auto& h : handles) {
            if (auto info = h.wait(60s); info) report(*info);
        }
        for (;;) ::pause();  // until the SIGKILL
    } catch (const std::exception& e) {
        child_die(std::string("exception: ") + e.what());
    } catch (...) {
        child_die("unknown exception");
    }
}

#if defined(__SANITIZE_THREAD__)
constexpr int kOwnThreadsAllowed = 2;
#else
constexpr int kOwnThreadsAllowed = 1;
#endif

int thread_count() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    return std::strtoull(v, nullptr, 10);
}

struct Totals {
    int iterations = 0;
    int sagas = 0;
    int succeeded = 0;
    int compensated = 0;
    int open_at_recovery = 0;  // recovered running/compensating: resumed or compensated by the parent
    int torn_tails = 0;
    int empty_logs = 0;       // killed before the child wrote a record
    int snapshots = 0;        // the child's log had a snapshot
    int killed_mid_step = 0;  // the kill found a step or a compensation running
    long acks = 0;
    long ledger_lines = 0;
};

std::string describe(const txflow::saga::Info& info) {
    std::string out = info.id + " " + std::string(txflow::saga::to_string(info.state)) + " [";
    for (const auto& s : info.steps) {
        out += " " + s.name + ":" + std::string(txflow::saga::to_string(s.state)) + "/a" + std::to_string(s.attempts) +
               "/c" + std::to_string(s.compensation_attempts);
    }
    return out + " ] " + info.error;
}

// Adds at most a few dozen lines, so a failure stays readable.
struct Problems {
    std::vector<std::string> list;
    std::size_t total = 0;
    void add(std::string what) {
        if (++total <= 40) list.push_back(std::move(what));
    }
    [[nodiscard]] std::string text() const {
        std::string out;
        for (const auto& p : list) out += "  " + p + "\n";
        if (total > list.size()) out += "  ... and " + std::to_string(total - list.size()) + " more\n";
        return out;
    }
};

using InfoMap = std::map<std::string, txflow::saga::Info>;

InfoMap by_id(const std::vector<txflow::saga::Info>& infos) {
    InfoMap out;
    for (const auto& i : infos) out.emplace(i.id, i);
    return out;
}

const txflow::saga::StepInfo* find_step(const txflow::saga::Info& info, std::string_view name) {
    for (const auto& s : info.steps)
        if (s.name == name) return &s;
    return nullptr;
}

// "X/S" -> (X, S); saga ids hold no '/'.
std::pair<std::string, std::string> split_key(const std::string& key) {
    const auto slash = key.rfind('/');
    if (slash == std::string::npos) return {key, ""};
    return {key.substr(0, slash), key.substr(slash + 1)};
}

bool known_id_shape(const std::string& id, int count) {
    for (const char* prefix : {"p-", "r-"}) {
        if (id.rfind(prefix, 0) == 0) {
            const std::string n = id.substr(2);
            if (n.empty() || n.size() > 4 ||
                !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return false;
            const int i = std::stoi(n);
            return i < count && (prefix[0] == 'r') == (i % 3 == 2);
        }
    }
    for (const char* prefix : {"tick@", "pulse@"}) {
        if (id.rfind(prefix, 0) == 0) return txflow::cron::parse_rfc3339(id.substr(std::strlen(prefix))).has_value();
    }
    return false;
}

// Checks (a): acknowledged transitions, against the state read back from the
// log before the recovering scheduler runs anything, and against the end.
void check_acks(const std::vector<std::string>& acks, const InfoMap& loaded, const InfoMap& final_state, Problems& lost,
                Problems& outcome) {
    for (const auto& line : acks) {
        const auto w = words(line);
        if (w.size() < 2) {
            lost.add("unreadable report line: " + line);
            continue;
        }
        if (w[0] == "started") {
            if (loaded.count(w[1]) == 0) lost.add("started " + w[1] + ", but the log does not have it");
        } else if (w[0] == "running" || w[0] == "compensating") {
            const auto [id, step] = split_key(w[1]);
            const auto it = loaded.find(id);
            const txflow::saga::StepInfo* s = it == loaded.end() ? nullptr : find_step(it->second, step);
            if (s == nullptr) {
                lost.add(line + ": the log has no such saga step");
                continue;
            }
            if (w[0] == "running" && (s->state == State::pending || s->attempts == 0)) {
                lost.add(line + ": the log has the step " + std::string(txflow::saga::to_string(s->state)) + " with " +
                         std::to_string(s->attempts) + " attempts (" + describe(it->second) + ")");
            }
            if (w[0] == "compensating" && s->state != State::compensating && s->state != State::compensated &&
                s->state != State::compensation_failed) {
                lost.add(line + ": the log has the step " + std::string(txflow::saga::to_string(s->state)) + " (" +
                         describe(it->second) + ")");
            }
            if (w[0] == "compensating") {
                const auto f = final_state.find(id);
                const auto* fs = f == final_state.end() ? nullptr : find_step(f->second, step);
                if (fs == nullptr || fs->state != State::compensated)
                    outcome.add(line + ": the step did not end compensated" +
                                (f == final_state.end() ? std::string() : " (" + describe(f->second) + ")"));
            }
        } else if (w[0] == "terminal" && w.size() == 3) {
            const auto it = loaded.find(w[1]);
            if (it == loaded.end() || txflow::saga::to_string(it->second.state) != w[2]) {
                lost.add(line + ": wait() reported it, but the log has it " +
                         (it == loaded.end() ? std::string("missing") : describe(it->second)));
            }
            const auto f = final_state.find(w[1]);
            if (f == final_state.end() || txflow::saga::to_string(f->second.state) != w[2]) {
                outcome.add(line + ": after recovery it ended " +
                            (f == final_state.end() ? std::string("missing") : describe(f->second)));
            }
        } else {
            lost.add("unknown report line: " + line);
        }
    }
}

// Checks (b) and (c).
void check_outcome(const std::vector<std::string>& ledger, const InfoMap& final_state, int count, Problems& bad_end,
                   Problems& unbalanced) {
    struct Effect {
        int applied = 0;
        int reverted = 0;
    };
    std::map<std::string, Effect> effects;
    for (const auto& line : ledger) {
        const auto w = words(line);
        if (w.size() == 3 && (w[0] == "apply" || w[0] == "revert")) {
            const auto [id, step] = split_key(w[1]);
            const auto it = final_state.find(id);
            if (it == final_state.end() || find_step(it->second, step) == nullptr) {
                unbalanced.add("effect under a key of no saga step: " + line);
                continue;
            }
            if (w[2] != std::to_string(amount_of(w[1]))) unbalanced.add("wrong amount: " + line);
            auto& e = effects[w[1]];
            ++(w[0] == "apply" ? e.applied : e.reverted);
        } else {
            unbalanced.add("ledger: " + line);  // "bad ..." lines: a step saw wrong data
        }
    }
    for (const auto& [id, info] : final_state) {
        if (!known_id_shape(id, count)) bad_end.add("a saga nobody started under this key: " + describe(info));
        if (info.state != State::succeeded && info.state != State::compensated) {
            bad_end.add("did not end succeeded or compensated: " + describe(info));
            continue;
        }
        for (const auto& s : info.steps) {
            const std::string key = id + "/" + s.name;
            const auto it = effects.find(key);
            const Effect e = it == effects.end() ? Effect{} : it->second;
            if (info.state == State::succeeded) {
                if (s.state != State::succeeded)
                    bad_end.add("succeeded with step " + s.name + " not: " + describe(info));
                if (e.applied == 0) unbalanced.add(key + ": the saga succeeded but the step's effect is missing");
                if (e.reverted != 0) unbalanced.add(key + ": the saga succeeded but the effect was reverted");
            } else {
                if (e.applied > 0 && e.reverted == 0) {
                    unbalanced.add(key + ": the saga compensated but the effect was never reverted (" + describe(info) +
                                   ")");
                }
                if (s.state != State::compensated && s.state != State::failed && s.state != State::pending)
                    bad_end.add("compensated with step " + s.name + " left " + describe(info));
            }
        }
    }
}

std::optional<std::string> check_wal(const fs::path& dir, const char* when) {
    auto inspected = WalStore::inspect(dir);
    if (!inspected) return std::string(when) + ": WalStore::inspect failed: " + inspected.error().message;
    if (inspected->corruption) {
        return std::string(when) + ": corruption in " + inspected->corruption->segment.string() + " at " +
               std::to_string(inspected->corruption->offset) + ": " + inspected->corruption->reason;
    }
    return std::nullopt;
}

// Did the kill land while a step or a compensation was running? (As read back
// from the log: its `running` or `compensating` record was written, its end not.)
bool killed_mid_step(const InfoMap& loaded) {
    return std::any_of(loaded.begin(), loaded.end(), [](const auto& entry) {
        return std::any_of(entry.second.steps.begin(), entry.second.steps.end(), [](const auto& step) {
            return step.state == State::running || step.state == State::compensating;
        });
    });
}

// Polls the child's report until it acknowledges a saga start (true), or
// gives up after `limit` (false): a kill before any work proves nothing.
bool wait_for_first_start(const fs::path& acks, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& line : read_lines(acks))
            if (line.rfind("started ", 0) == 0) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// Waits until no saga is open (or the deadline); returns the last listing.
std::vector<txflow::saga::Info> settle(Scheduler& sched, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto all = sched.sagas();
        const bool open = std::any_of(all.begin(), all.end(), [](const auto& i) { return !stopped(i.state); });
        if (!open || std::chrono::steady_clock::now() >= deadline) return all;
        std::this_thread::sleep_for(5ms);
    }
}

void run_iteration(const fs::path& base, int iteration, std::uint64_t seed, bool keep, Totals& totals) {
    const Paths p(base / ("it-" + std::to_string(iteration)));
    fs::create_directories(p.root);
    const int count = saga_count_for(seed);
    const auto kill_after = std::chrono::milliseconds(20 + mix(seed ^ 0xc0ffee) % 381);
    INFO("iteration " << iteration << ", seed " << seed << " (replay: TXFLOW_CRASH_SEED=" << seed
                      << " TXFLOW_CRASH_ITERATIONS=1), " << count << " sagas, kill " << kill_after.count()
                      << " ms after the first saga start, files in " << p.root);

    // ---- 1, 2: the child runs, and is killed
    // fork copies only this thread: no lock can be held by another thread of
    // ours. (ThreadSanitizer's runtime keeps a background thread of its own.)
    REQUIRE(thread_count() <= kOwnThreadsAllowed);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) run_child(p, seed);
    const bool child_started_a_saga = wait_for_first_start(p.acks, 30s);
    if (child_started_a_saga) std::this_thread::sleep_for(kill_after);  // the random instant of the kill
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
        std::ifstream in(p.child_error);
        const std::string why((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        FAIL("the child did not die of the SIGKILL (status " << status << "): " << why);
    }
    REQUIRE(child_started_a_saga);  // else the iteration would check an empty log

    // ---- 4d, first part: what the crash left
    if (auto bad = check_wal(p.wal, "after the crash")) FAIL(*bad);

    // ---- 3: recover
    std::size_t acks_partial = 0;
    std::size_t ledger_partial = 0;
    const auto acks = read_lines(p.acks, &acks_partial);
    CHECK(acks_partial == 0);
    InfoMap loaded;
    InfoMap final_state;
    auto log_sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(20);
    log_sink->set_level(spdlog::level::err);  // store failures, stuck compensations, bad definitions
    auto log = std::make_shared<spdlog::logger>("recovery", log_sink);
    {
        auto opened = WalStore::open(wal_options(p.wal));
        REQUIRE(opened);
        std::shared_ptr<WalStore> store = std::move(*opened);
        if (store->recovery_report().torn_tail) ++totals.torn_tails;
        if (store->recovery_report().records == 0) ++totals.empty_logs;
        if (store->recovery_report().snapshot_seq) ++totals.snapshots;
        const AppendFile ledger(p.ledger);
        REQUIRE(ledger.ok());
        const World w{seed, &ledger, nullptr};
        Scheduler sched(
            SchedulerOptions{}.workers(3).logger(log).store(store).seed(seed | 1).snapshot_every(kSnapshotEvery));
        loaded = by_id(sched.sagas());  // as read back from the log: nothing has run yet
        REQUIRE_FALSE(loaded.empty());  // the child acknowledged a start: it is in the log
        if (killed_mid_step(loaded)) ++totals.killed_mid_step;
        for (const auto& [id, info] : loaded) totals.open_at_recovery += stopped(info.state) ? 0 : 1;
        const auto pay = make_pay(w);
        sched.register_saga(pay);
        sched.register_saga(make_refund(w));
        // The cron job comes back under its name: its missed fire (if any) meets
        // the misfire policy; a fire that started its saga before the crash
        // finds the saga by key and starts nothing.
        auto tick =
            sched.job("tick").cron("* * * * * *").misfire(txflow::Misfire::fire_once()).run(pay, {{"via", "tick"}});
        sched.start();
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        settle(sched, deadline);
        tick.remove();
        // A tick run in progress may still start its saga: settled means no
        // saga open and no new one for a while. (Not wait_idle(): bounded.)
        for (;;) {
            const auto settled = settle(sched, deadline);
            std::this_thread::sleep_for(100ms);
            if (sched.sagas().size() == settled.size() || std::chrono::steady_clock::now() >= deadline) {
                final_state = by_id(settled);
                break;
            }
        }
        sched.stop(5s);
    }
    const auto logged = log_sink->last_formatted();
    INFO("the recovering scheduler logged (errors, last 20):\n"
         << [&] {
                std::string out;
                for (const auto& l : logged) out += "  " + l;
                return out;
            }());
    const auto ledger = read_lines(p.ledger, &ledger_partial);
    CHECK(ledger_partial == 0);
    CHECK(g_parent_write_failures.exchange(0) == 0);

    // ---- 4d, second part: the recovered log, and a second recovery agrees
    if (auto bad = check_wal(p.wal, "after recovery")) FAIL(*bad);
    {
        auto opened = WalStore::open(wal_options(p.wal));
        REQUIRE(opened);
        Scheduler again(SchedulerOptions{}.workers(2).logger(quiet_logger("crash")).store(std::move(*opened)));
        Problems differ;
        const auto reloaded = by_id(again.sagas());
        if (reloaded.size() != final_state.size()) differ.add("a second recovery lists a different number of sagas");
        for (const auto& [id, info] : final_state) {
            const auto it = reloaded.find(id);
            if (it == reloaded.end() || it->second.state != info.state)
                differ.add(id + ": " + describe(info) + " vs " +
                           (it == reloaded.end() ? "missing" : describe(it->second)));
        }
        INFO("a second recovery does not give the final states:\n" << differ.text());
        CHECK(differ.total == 0);
    }

    // ---- 4abc
    Problems lost;
    Problems outcome;
    Problems bad_end;
    Problems unbalanced;
    check_acks(acks, loaded, final_state, lost, outcome);
    check_outcome(ledger, final_state, count, bad_end, unbalanced);
    {
        INFO("acknowledged transitions missing from the log after the crash:\n" << lost.text());
        CHECK(lost.total == 0);
    }
    {
        INFO("acknowledged transitions the recovered sagas contradict:\n" << outcome.text());
        CHECK(outcome.total == 0);
    }
    {
        INFO("sagas that did not end succeeded or compensated:\n" << bad_end.text());
        CHECK(bad_end.total == 0);
    }
    {
        INFO("ledger:\n" << unbalanced.text());
        CHECK(unbalanced.total == 0);
    }

    ++totals.iterations;
    totals.sagas += static_cast<int>(final_state.size());
    for (const auto& [id, info] : final_state) {
        totals.succeeded += info.state == State::succeeded ? 1 : 0;
        totals.compensated += info.state == State::compensated ? 1 : 0;
    }
    totals.acks += static_cast<long>(acks.size());
    totals.ledger_lines += static_cast<long>(ledger.size());
    const bool passed = lost.total + outcome.total + bad_end.total + unbalanced.total == 0;
    if (passed && !keep) fs::remove_all(p.root);
}

// Below this many iterations (a replay of one seed) the share of kills that
// landed mid-step says nothing.
constexpr int kIterationsForWorkCheck = 10;

void run_crash_test(int default_iterations) {
    const int iterations =
        static_cast<int>(env_number("TXFLOW_CRASH_ITERATIONS", static_cast<std::uint64_t>(default_iterations)));
    const std::uint64_t base_seed = env_number("TXFLOW_CRASH_SEED", std::random_device{}());
    const bool keep = env_number("TXFLOW_CRASH_KEEP", 0) != 0;
    std::string tmpl = (fs::temp_directory_path() / "txflow-crash-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    const fs::path base(tmpl);
    std::printf("crash test: %d iterations, TXFLOW_CRASH_SEED=%llu, in %s\n", iterations,
                static_cast<unsigned long long>(base_seed), base.c_str());
    std::fflush(stdout);  // the children must not inherit unwritten output

    Totals totals;
    const auto began = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i)
        run_iteration(base, i, base_seed + static_cast<std::uint64_t>(i), keep, totals);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
    std::printf(
        "crash test: %d iterations in %.1f s: %d sagas (%d succeeded, %d compensated), %d open at recovery, "
        "%d torn tails, %d empty logs, %d with a snapshot, %d killed mid-step, %ld acknowledged transitions, "
        "%ld ledger lines\n",
        totals.iterations, static_cast<double>(took.count()) / 1000.0, totals.sagas, totals.succeeded,
        totals.compensated, totals.open_at_recovery, totals.torn_tails, totals.empty_logs, totals.snapshots,
        totals.killed_mid_step, totals.acks, totals.ledger_lines);
    std::fflush(stdout);
    // The run tested crashes only if most kills found work in progress.
    if (totals.iterations >= kIterationsForWorkCheck) {
        INFO("TXFLOW_CRASH_SEED=" << base_seed << ": " << totals.killed_mid_step << " of " << totals.iterations
                                  << " kills landed mid-step");
        CHECK(totals.killed_mid_step * 2 >= totals.iterations);
    }
    std::error_code ec;
    if (!keep && fs::is_empty(base, ec)) fs::remove(base, ec);
}

}  // namespace

TEST_CASE("SIGKILL at a random instant loses no acknowledged transition; every saga ends balanced", "[crash]") {
    run_crash_test(20);
}

TEST_CASE("crash test, long run: 500 iterations", "[.crash-long]") {
    run_crash_test(500);
}
