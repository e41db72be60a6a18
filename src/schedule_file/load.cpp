// Loading and validating schedule files: every problem is collected with
// the JSON pointer of the value at fault, then reported in document order
// (the parse, with duplicate keys, positions and the nesting limit, is
// json_dom.hpp's).

#include <date/tz.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "json_dom.hpp"
#include "json_pointer.hpp"
#include "to_library.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::schedule_file {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::uintmax_t kMaxFileBytes = 16U << 20U;

using detail::child;

// ---------------------------------------------------------------- the checker

std::string type_of(const json& v) {
    if (v.is_number_integer()) return fmt::format("number {}", v.dump());
    if (v.is_number_float()) return fmt::format("number {}", v.dump());
    if (v.is_string()) return fmt::format("string {}", v.dump(-1, ' ', false, json::error_handler_t::replace));
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_null()) return "null";
    return v.type_name();  // object, array
}

std::string quoted_list(const std::vector<std::string_view>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
        out += items[i];
    }
    return out;
}

// The known keys of each kind of object, in the order the docs list them.
const std::vector<std::string_view> kTopKeys{"version", "description", "state_dir", "log",
                                             "workers", "queues",      "jobs",      "sagas"};
const std::vector<std::string_view> kLogKeys{"format", "level"};
const std::vector<std::string_view> kJobKeys{"name",     "description", "cron",  "every",  "at",
                                             "zone",     "priority",    "queue", "jitter", "misfire",
                                             "policies", "command",     "saga",  "input"};
const std::vector<std::string_view> kPolicyKeys{"timeout", "retry", "overlap", "breaker"};
const std::vector<std::string_view> kRetryKeys{"attempts", "backoff", "initial",    "multiplier",
                                               "max",      "jitter",  "max_elapsed"};
const std::vector<std::string_view> kBreakerKeys{"name",      "window",          "min_calls", "failure_rate",
                                                 "slow_call", "slow_percentile", "open_for",  "half_open_probes"};
const std::vector<std::string_view> kCommandKeys{"argv", "env", "cwd"};
const std::vector<std::string_view> kSagaKeys{"name", "description", "steps", "on_recovery", "priority", "queue"};
const std::vector<std::string_view> kStepKeys{"name",    "description", "command", "compensate", "no_compensation",
                                              "timeout", "retry"};
const std::vector<std::string_view> kLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};

class Checker {
public:
    Checker(const std::filesystem::path& directory, ScheduleFile& out) : dir_(directory), out_(out) {}

    Problems problems;

    void check(const json& root) {
        if (!root.is_object()) {
            add("", fmt::format("a schedule file is a JSON object, got {}", type_of(root)));
            return;
        }
        known_keys(root, "", kTopKeys, {});
        version(root);
        if (const json* v = member(root, "description")) text(*v, "/description", true);
        if (const json* v = member(root, "state_dir")) {
            if (auto s = path_string(*v, "/state_dir")) out_.state_dir = resolve(*s);
        }
        if (const json* v = member(root, "log")) log(*v, "/log");
        if (const json* v = member(root, "workers")) {
            if (auto n = integer(*v, "/workers", 1, 4096)) out_.workers = static_cast<std::size_t>(*n);
        }
        if (const json* v = member(root, "queues")) queues(*v, "/queues");
        // Sagas before jobs: a job refers to a saga by name.
        if (const json* v = member(root, "sagas")) {
            if (v->is_array()) {
                for (std::size_t i = 0; i < v->size(); ++i) saga((*v)[i], child("/sagas", i));
            } else {
                add("/sagas", fmt::format("expected an array of sagas, got {}", type_of(*v)));
            }
        }
        if (const json* v = member(root, "jobs")) {
            if (v->is_array()) {
                for (std::size_t i = 0; i < v->size(); ++i) job((*v)[i], child("/jobs", i));
            } else {
                add("/jobs", fmt::format("expected an array of jobs, got {}", type_of(*v)));
            }
        }
        // References to sagas that do not exist (checked once every saga is known).
        for (const auto& [pointer, name] : saga_refs_) {
            if (saga_names_.count(name) != 0) continue;
            std::vector<std::string_view> names(saga_names_.begin(), saga_names_.end());
            add(pointer, fmt::format("no saga named '{}'{}", name, hint(name, names)));
        }
    }

private:
    void add(std::string pointer, std::string reason) { problems.push_back({std::move(pointer), std::move(reason)}); }

    static const json* member(const json& obj, std::string_view key) {
        const auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    }

    static std::string hint(std::string_view word, const std::vector<std::string_view>& candidates) {
        const std::string match = closest_match(word, candidates);
        return match.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", match);
    }

    // Unknown keys are errors (typo protection). `elsewhere` maps a key that
    // belongs one level down to where it goes ("retry" -> "policies").
    void known_keys(const json& obj, const std::string& pointer, const std::vector<std::string_view>& known,
                    const std::vector<std::pair<std::string_view, std::string_view>>& elsewhere) {
        for (const auto& [key, value] : obj.items()) {
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            std::string reason = fmt::format("unknown key '{}'", key);
            const auto moved = std::find_if(elsewhere.begin(), elsewhere.end(),
                                            [&key = key](const auto& e) { return e.first == key; });
            if (moved != elsewhere.end()) {
                reason += fmt::format(" (it belongs in '{}')", moved->second);
            } else {
                reason += hint(key, known);
            }
            add(child(pointer, key), std::move(reason));
        }
    }

    bool require(const json& obj, const std::string& pointer, std::string_view key) {
        if (obj.contains(key)) return true;
        add(pointer, fmt::format("missing required key '{}'", key));
        return false;
    }

    bool object(const json& v, const std::string& pointer, std::string_view what) {
        if (v.is_object()) return true;
        add(pointer, fmt::format("expected {}, got {}", what, type_of(v)));
        return false;
    }

    // A string without NUL bytes (they cannot reach exec or the file system);
    // non-empty unless allow_empty.
    std::optional<std::string> text(const json& v, const std::string& pointer, bool allow_empty = false) {
        if (!v.is_string()) {
            add(pointer, fmt::format("expected a string, got {}", type_of(v)));
            return std::nullopt;
        }
        const auto& s = v.get_ref<const std::string&>();
        if (s.empty() && !allow_empty) {
            add(pointer, "must not be empty");
            return std::nullopt;
        }
        if (s.find('\0') != std::string::npos) {
            add(pointer, "must not contain a NUL character");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::string> path_string(const json& v, const std::string& pointer) { return text(v, pointer); }

    std::string resolve(const std::string& path) const {
        std::filesystem::path p(path);
        if (p.is_relative()) p = dir_ / p;
        return p.lexically_normal().string();
    }

    std::optional<std::int64_t> integer(const json& v, const std::string& pointer, std::int64_t lo, std::int64_t hi) {
        if (!v.is_number_integer()) {
            add(pointer, fmt::format("expected an integer, got {}", type_of(v)));
            return std::nullopt;
        }
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
            add(pointer, fmt::format("{} is out of range {}-{}", v.dump(), lo, hi));
            return std::nullopt;
        }
        const auto n = v.get<std::int64_t>();
        if (n < lo || n > hi) {
            add(pointer, fmt::format("{} is out of range {}-{}", n, lo, hi));
            return std::nullopt;
        }
        return n;
    }

    // A fraction in (0, 1].
    std::optional<double> fraction(const json& v, const std::string& pointer) {
        if (!v.is_number()) {
            add(pointer, fmt::format("expected a number, got {}", type_of(v)));
            return std::nullopt;
        }
        const auto x = v.get<double>();
        if (!(x > 0.0 && x <= 1.0)) {
            add(pointer, fmt::format("{} is out of range: must be above 0 and at most 1", v.dump()));
            return std::nullopt;
        }
        return x;
    }

    enum class Sign : std::uint8_t { non_negative, positive };

    std::optional<milliseconds> duration(const json& v, const std::string& pointer, Sign sign) {
        if (!v.is_string()) {
            add(pointer, fmt::format("expected a duration string like \"90s\" or \"1m30s\", got {}", type_of(v)));
            return std::nullopt;
        }
        auto d = parse_duration(v.get_ref<const std::string&>());
        if (!d) {
            add(pointer, d.error());
            return std::nullopt;
        }
        if (sign == Sign::positive && d->count() == 0) {
            add(pointer, "must be positive");
            return std::nullopt;
        }
        return *d;
    }

    // One of `choices`; the reason lists them.
    std::optional<std::string> choice(const json& v, const std::string& pointer, std::string_view what,
                                      const std::vector<std::string_view>& choices) {
        if (!v.is_string()) {
            add(pointer, fmt::format("expected a string ({}), got {}", quoted_list(choices), type_of(v)));
            return std::nullopt;
        }
        const auto& s = v.get_ref<const std::string&>();
        if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
            add(pointer, fmt::format("unknown {} '{}' (use {})", what, s, quoted_list(choices)));
            return std::nullopt;
        }
        return s;
    }

    std::optional<bool> boolean(const json& v, const std::string& pointer) {
        if (!v.is_boolean()) {
            add(pointer, fmt::format("expected true or false, got {}", type_of(v)));
            return std::nullopt;
        }
        return v.get<bool>();
    }

    // ------------------------------------------------------------ sections

    void version(const json& root) {
        if (!require(root, "", "version")) return;
        const json& v = root["version"];
        if (!v.is_number_integer()) {
            add("/version", fmt::format("expected the integer {}, got {}", ScheduleFile::kVersion, type_of(v)));
        } else if (v.get<std::int64_t>() != ScheduleFile::kVersion) {
            add("/version",
                fmt::format("unsupported version {} (this txflow reads version {})", v.dump(), ScheduleFile::kVersion));
        }
    }

    void log(const json& v, const std::string& pointer) {
        if (!object(v, pointer, "an object")) return;
        known_keys(v, pointer, kLogKeys, {});
        if (const json* f = member(v, "format")) {
            if (auto s = choice(*f, child(pointer, "format"), "log format", {"text", "json"}))
                out_.log.format = *s == "json" ? LogFormat::json : LogFormat::text;
        }
        if (const json* l = member(v, "level")) {
            if (auto s = choice(*l, child(pointer, "level"), "log level", kLevels)) out_.log.level = *s;
        }
    }

    void queues(const json& v, const std::string& pointer) {
        if (!object(v, pointer, "an object of queue names and concurrency limits, e.g. {\"db\": 2}")) return;
        for (const auto& [name, limit] : v.items()) {
            const std::string p = child(pointer, name);
            if (name.empty()) {
                add(p, "a queue name must not be empty");
                continue;
            }
            if (auto n = integer(limit, p, 1, 1 << 20)) {
                out_.queues.emplace_back(name, static_cast<std::size_t>(*n));
                queue_names_.insert(name);
            }
            declared_queues_.insert(name);
        }
    }

    std::optional<Priority> priority(const json& v, const std::string& pointer) {
        auto s = choice(v, pointer, "priority", {"low", "normal", "high", "critical"});
        if (!s) return std::nullopt;
        if (*s == "low") return Priority::low;
        if (*s == "high") return Priority::high;
        if (*s == "critical") return Priority::critical;
        return Priority::normal;
    }

    std::optional<std::string> queue(const json& v, const std::string& pointer) {
        auto s = text(v, pointer);
        if (!s) return std::nullopt;
        if (declared_queues_.count(*s) == 0) {
            std::vector<std::string_view> names(declared_queues_.begin(), declared_queues_.end());
            add(pointer, fmt::format("queue '{}' is not declared in /queues{}", *s, hint(*s, names)));
            return std::nullopt;
        }
        return s;
    }

    std::optional<Command> command(const json& v, const std::string& pointer) {
        if (!object(v, pointer, "a command object like {\"argv\": [\"program\", \"arg\"]}")) return std::nullopt;
        known_keys(v, pointer, kCommandKeys, {});
        Command c;
        bool ok = true;
        if (require(v, pointer, "argv")) {
            const json& argv = v["argv"];
            const std::string p = child(pointer, "argv");
            if (!argv.is_array()) {
                add(p, fmt::format("expected an array of strings (program, then arguments), got {}", type_of(argv)));
                ok = false;
            } else if (argv.empty()) {
                add(p, "must not be empty: the first element is the program to run");
                ok = false;
            } else {
                for (std::size_t i = 0; i < argv.size(); ++i) {
                    // Arguments may be empty strings; the program may not.
                    auto s = text(argv[i], child(p, i), i > 0);
                    if (s) c.argv.push_back(*s);
                    else ok = false;
                }
            }
        } else {
            ok = false;
        }
        if (const json* env = member(v, "env")) {
            const std::string p = child(pointer, "env");
            if (!env->is_object()) {
                add(p, fmt::format("expected an object of variable names and string values, got {}", type_of(*env)));
                ok = false;
            } else {
                for (const auto& [name, value] : env->items()) {
                    const std::string vp = child(p, name);
                    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
                        add(vp, "a variable name must be non-empty, without '=' or NUL");
                        ok = false;
                        continue;
                    }
                    if (auto s = text(value, vp, true)) c.env[name] = *s;
                    else ok = false;
                }
            }
        }
        if (const json* cwd = member(v, "cwd")) {
            if (auto s = path_string(*cwd, child(pointer, "cwd"))) c.cwd = resolve(*s);
            else ok = false;
        } else {
            c.cwd = dir_.string();
        }
        if (!ok) return std::nullopt;
        return c;
    }

    std::optional<RetrySpec> retry_spec(const json& v, const std::string& pointer) {
        if (!object(v, pointer, "an object")) return std::nullopt;
        known_keys(v, pointer, kRetryKeys, {});
        RetrySpec r;
        bool ok = true;
        const auto field = [&](std::string_view key) { return child(pointer, key); };
        if (const json* a = member(v, "attempts")) {
            if (auto n = integer(*a, field("attempts"), 1, 1000)) r.attempts = static_cast<std::uint32_t>(*n);
            else ok = false;
        }
        if (const json* b = member(v, "backoff")) {
            if (auto s = choice(*b, field("backoff"), "backoff", {"fixed", "exponential"}))
                r.backoff = *s == "fixed" ? retry::Backoff::fixed : retry::Backoff::exponential;
            else ok = false;
        }
        const bool exponential = r.backoff == retry::Backoff::exponential;
        if (const json* i = member(v, "initial")) {
            if (auto d = duration(*i, field("initial"), exponential ? Sign::positive : Sign::non_negative))
                r.initial = *d;
            else ok = false;
        }
        if (const json* m = member(v, "multiplier")) {
            if (!exponential) {
                add(field("multiplier"), "applies to \"backoff\": \"exponential\" only");
                ok = false;
            } else if (!m->is_number()) {
                add(field("multiplier"), fmt::format("expected a number, got {}", type_of(*m)));
                ok = false;
            } else if (!(m->get<double>() >= 1.0 && m->get<double>() <= 1000.0)) {
                add(field("multiplier"), fmt::format("{} is out of range 1-1000", m->dump()));
                ok = false;
            } else {
                r.multiplier = m->get<double>();
            }
        }
        if (const json* m = member(v, "max")) {
            if (!exponential) {
                add(field("max"), "applies to \"backoff\": \"exponential\" only");
                ok = false;
            } else if (auto d = duration(*m, field("max"), Sign::positive)) {
                r.max = *d;
                if (r.max < r.initial) {
                    add(field("max"), fmt::format("must be at least 'initial' ({})", format_duration(r.initial)));
                    ok = false;
                }
            } else {
                ok = false;
            }
        } else if (exponential && r.max < r.initial) {
            r.max = r.initial;  // a cap below the first delay would be meaningless: no growth
        }
        if (const json* j = member(v, "jitter")) {
            if (auto s = choice(*j, field("jitter"), "jitter", {"none", "full", "equal", "decorrelated"})) {
                if (*s == "full") r.jitter = retry::Jitter::full;
                else if (*s == "equal") r.jitter = retry::Jitter::equal;
                else if (*s == "decorrelated") r.jitter = retry::Jitter::decorrelated;
                else r.jitter = retry::Jitter::none;
            } else {
                ok = false;
            }
        }
        if (const json* e = member(v, "max_elapsed")) {
            if (auto d = duration(*e, field("max_elapsed"), Sign::non_negative)) r.max_elapsed = *d;
            else ok = false;
        }
        if (!ok) return std::nullopt;
        try {
            (void)to_policy(r);  // the library's own checks, as a backstop
        } catch (const std::exception& ex) {
            add(pointer, ex.what());
            return std::nullopt;
        }
        return r;
    }

    std::optional<BreakerSpec> breaker(const json& v, const std::string& pointer, const std::string& job_name) {
        if (!object(v, pointer, "an object")) return std::nullopt;
        known_keys(v, pointer, kBreakerKeys, {});
        BreakerSpec b;
        b.name = job_name;
        BreakerSettings& o = b.options;
        bool ok = true;
        const auto field = [&](std::string_view key) { return child(pointer, key); };
        if (const json* n = member(v, "name")) {
            if (auto s = text(*n, field("name"))) b.name = *s;
            else ok = false;
        }
        if (const json* w = member(v, "window")) {
            if (auto n = integer(*w, field("window"), 1, 100'000)) o.window = static_cast<std::size_t>(*n);
            else ok = false;
        }
        if (const json* m = member(v, "min_calls")) {
            if (auto n = integer(*m, field("min_calls"), 0, 100'000)) {
                o.min_calls = static_cast<std::size_t>(*n);
                if (o.min_calls > o.window) {
                    add(field("min_calls"), fmt::format("must not exceed 'window' ({})", o.window));
                    ok = false;
                }
            } else {
                ok = false;
            }
        } else if (o.min_calls > o.window) {
            o.min_calls = o.window;  // a small window without min_calls: decide once it is full
        }
        if (const json* f = member(v, "failure_rate")) {
            if (auto x = fraction(*f, field("failure_rate"))) o.failure_rate = *x;
            else ok = false;
        }
        if (const json* s = member(v, "slow_call")) {
            if (auto d = duration(*s, field("slow_call"), Sign::non_negative)) o.slow_call = *d;
            else ok = false;
        }
        if (const json* p = member(v, "slow_percentile")) {
            if (auto x = fraction(*p, field("slow_percentile"))) o.slow_percentile = *x;
            else ok = false;
        }
        if (const json* d = member(v, "open_for")) {
            if (auto x = duration(*d, field("open_for"), Sign::non_negative)) o.open_for = *x;
            else ok = false;
        }
        if (const json* h = member(v, "half_open_probes")) {
            if (auto n = integer(*h, field("half_open_probes"), 1, 100'000))
                o.half_open_probes = static_cast<std::size_t>(*n);
            else ok = false;
        }
        if (!ok) return std::nullopt;
        try {
            validate(to_options(o));  // the library's own checks, as a backstop
        } catch (const std::exception& ex) {
            add(pointer, ex.what());
            return std::nullopt;
        }
        // Breakers are shared by name: every job naming one must agree on it.
        if (const auto it = breakers_.find(b.name); it != breakers_.end()) {
            if (!(it->second.first == o)) {
                add(pointer, fmt::format("breaker '{}' is already declared with other options at {}", b.name,
                                         it->second.second));
                return std::nullopt;
            }
        } else {
            breakers_.emplace(b.name, std::make_pair(o, pointer));
        }
        return b;
    }

    void policies(const json& v, const std::string& pointer, JobSpec& job) {
        if (!object(v, pointer, "an object")) return;
        known_keys(v, pointer, kPolicyKeys, {});
        if (const json* t = member(v, "timeout")) job.timeout = duration(*t, child(pointer, "timeout"), Sign::positive);
        if (const json* r = member(v, "retry")) job.retry = retry_spec(*r, child(pointer, "retry"));
        if (const json* o = member(v, "overlap")) {
            if (auto s = choice(*o, child(pointer, "overlap"), "overlap policy", {"allow", "skip", "delay"}))
                job.overlap = *s == "skip" ? Overlap::skip : *s == "delay" ? Overlap::delay : Overlap::allow;
        }
        if (const json* b = member(v, "breaker")) job.breaker = breaker(*b, child(pointer, "breaker"), job.name);
    }

    std::optional<MisfireSpec> misfire(const json& v, const std::string& pointer) {
        constexpr std::string_view kExpected = "\"fire_once\", \"skip\" or {\"fire_all\": N}";
        if (v.is_string()) {
            const auto& s = v.get_ref<const std::string&>();
            if (s == "fire_once") return MisfireSpec{MisfireSpec::Mode::fire_once, 0};
            if (s == "skip") return MisfireSpec{MisfireSpec::Mode::skip, 0};
            add(pointer, fmt::format("unknown misfire policy '{}' (use {})", s, kExpected));
            return std::nullopt;
        }
        if (v.is_object()) {
            if (v.size() != 1 || !v.contains("fire_all")) {
                add(pointer, fmt::format("expected {}", kExpected));
                return std::nullopt;
            }
            if (auto n = integer(v["fire_all"], child(pointer, "fire_all"), 1, 1'000'000))
                return MisfireSpec{MisfireSpec::Mode::fire_all, static_cast<std::uint32_t>(*n)};
            return std::nullopt;
        }
        add(pointer, fmt::format("expected {}, got {}", kExpected, type_of(v)));
        return std::nullopt;
    }

    const cron::Zone* zone(const std::string& name, const std::string& pointer) {
        if (const cron::Zone* z = cron::Zone::find(name)) return z;
        std::string hint_text;
        try {
            std::vector<std::string_view> names;
            const auto& db = date::get_tzdb();
            for (const auto& z : db.zones) names.push_back(z.name());
            if (const std::string match = closest_match(name, names); !match.empty())
                hint_text = fmt::format(" (did you mean \"{}\"?)", match);
        } catch (const std::exception&) {
            // no database: no hint
        }
        add(pointer, fmt::format("unknown time zone \"{}\"{}", name, hint_text));
        return nullptr;
    }

    void job(const json& v, const std::string& pointer) {
        if (!object(v, pointer, "a job object")) return;
        known_keys(v, pointer, kJobKeys,
                   {{"timeout", "policies"},
                    {"retry", "policies"},
                    {"overlap", "policies"},
                    {"breaker", "policies"},
                    {"argv", "command"},
                    {"env", "command"},
                    {"cwd", "command"},
                    {"steps", "sagas"}});
        JobSpec job;
        bool ok = true;
        const auto field = [&](std::string_view key) { return child(pointer, key); };

        if (require(v, pointer, "name")) {
            if (auto s = text(v["name"], field("name"))) {
                job.name = *s;
                if (const auto it = job_names_.find(*s); it != job_names_.end()) {
                    add(field("name"), fmt::format("duplicate job name '{}' (first used at {})", *s, it->second));
                    ok = false;
                } else {
                    job_names_.emplace(*s, field("name"));
                }
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (const json* d = member(v, "description")) text(*d, field("description"), true);

        // Exactly one trigger.
        std::vector<std::string_view> triggers;
        for (const std::string_view k : {"cron", "every", "at"})
            if (v.contains(k)) triggers.push_back(k);
        if (triggers.empty()) {
            add(pointer, "missing a trigger: one of 'cron', 'every' or 'at'");
            ok = false;
        } else if (triggers.size() > 1) {
            add(pointer,
                fmt::format("has both '{}' and '{}': a job has exactly one trigger", triggers[0], triggers[1]));
            ok = false;
        }
        const cron::Zone* job_zone = nullptr;
        if (const json* z = member(v, "zone")) {
            if (auto s = text(*z, field("zone"))) {
                job.zone = *s;
                job_zone = zone(*s, field("zone"));
                if (job_zone == nullptr) ok = false;
                if (!v.contains("cron") && !triggers.empty()) {
                    add(field("zone"),
                        "applies to 'cron' jobs only ('every' counts from the start, 'at' has an "
                        "offset)");
                    ok = false;
                }
            } else {
                ok = false;
            }
        }
        if (const json* c = member(v, "cron")) {
            job.trigger = TriggerKind::cron;
            if (auto s = text(*c, field("cron"))) {
                job.cron = *s;
                auto parsed = cron::parse(*s);
                if (!parsed) {
                    add(field("cron"), parsed.error().message());
                    ok = false;
                } else {
                    job.schedule = job_zone != nullptr ? parsed->in_zone(*job_zone) : *parsed;
                }
            } else {
                ok = false;
            }
        }
        if (const json* e = member(v, "every")) {
            job.trigger = TriggerKind::every;
            if (auto d = duration(*e, field("every"), Sign::positive)) job.every = *d;
            else ok = false;
        }
        if (const json* a = member(v, "at")) {
            job.trigger = TriggerKind::at;
            if (auto s = text(*a, field("at"))) {
                if (auto t = cron::parse_rfc3339(*s)) {
                    job.at = *t;
                } else {
                    add(field("at"), fmt::format("\"{}\" is not an RFC 3339 time (e.g. 2026-03-07T12:00:00Z or "
                                                 "2026-03-07T13:00:00+01:00)",
                                                 *s));
                    ok = false;
                }
            } else {
                ok = false;
            }
        }
        if (const json* p = member(v, "priority")) {
            if (auto pr = priority(*p, field("priority"))) job.priority = *pr;
            else ok = false;
        }
        if (const json* q = member(v, "queue")) {
            if (auto s = queue(*q, field("queue"))) job.queue = *s;
            else ok = false;
        }
        if (const json* j = member(v, "jitter")) {
            if (auto d = duration(*j, field("jitter"), Sign::non_negative)) job.jitter = *d;
            else ok = false;
        }
        if (const json* m = member(v, "misfire")) {
            job.misfire = misfire(*m, field("misfire"));
            if (!job.misfire) ok = false;
        }
        if (const json* p = member(v, "policies")) {
            const std::size_t before = problems.size();
            policies(*p, field("policies"), job);
            if (problems.size() != before) ok = false;
        }

        // Exactly one of command / saga.
        const bool has_command = v.contains("command");
        const bool has_saga = v.contains("saga");
        if (!has_command && !has_saga) {
            add(pointer, "missing 'command' or 'saga': what the job runs");
            ok = false;
        } else if (has_command && has_saga) {
            add(pointer, "has both 'command' and 'saga': a job runs one of them");
            ok = false;
        }
        if (has_command) {
            job.command = command(v["command"], field("command"));
            if (!job.command) ok = false;
        }
        if (has_saga) {
            if (auto s = text(v["saga"], field("saga"))) {
                job.saga = *s;
                saga_refs_.emplace_back(field("saga"), *s);
            } else {
                ok = false;
            }
        }
        if (const json* in = member(v, "input")) {
            if (!has_saga) {
                add(field("input"), "applies to 'saga' jobs only (it is the saga's input data)");
                ok = false;
            } else if (!in->is_object()) {
                add(field("input"), fmt::format("expected an object, got {}", type_of(*in)));
                ok = false;
            } else {
                job.input = *in;
            }
        }
        if (ok) out_.jobs.push_back(std::move(job));
    }

    void saga(const json& v, const std::string& pointer) {
        if (!object(v, pointer, "a saga object")) return;
        known_keys(v, pointer, kSagaKeys, {{"command", "steps"}, {"compensate", "steps"}});
        SagaSpec saga;
        bool ok = true;
        const auto field = [&](std::string_view key) { return child(pointer, key); };
        if (require(v, pointer, "name")) {
            if (auto s = text(v["name"], field("name"))) {
                saga.name = *s;
                if (const auto it = saga_pointers_.find(*s); it != saga_pointers_.end()) {
                    add(field("name"), fmt::format("duplicate saga name '{}' (first used at {})", *s, it->second));
                    ok = false;
                } else {
                    saga_pointers_.emplace(*s, field("name"));
                }
                saga_names_.insert(*s);  // jobs may name it even if the saga has problems of its own
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (const json* d = member(v, "description")) text(*d, field("description"), true);
        if (const json* r = member(v, "on_recovery")) {
            if (auto s = choice(*r, field("on_recovery"), "recovery", {"resume", "compensate"}))
                saga.on_recovery = *s == "compensate" ? OnRecovery::compensate : OnRecovery::resume;
            else ok = false;
        }
        if (const json* p = member(v, "priority")) {
            if (auto pr = priority(*p, field("priority"))) saga.priority = *pr;
            else ok = false;
        }
        if (const json* q = member(v, "queue")) {
            if (auto s = queue(*q, field("queue"))) saga.queue = *s;
            else ok = false;
        }
        if (require(v, pointer, "steps")) {
            const json& steps = v["steps"];
            const std::string sp = field("steps");
            if (!steps.is_array()) {
                add(sp, fmt::format("expected an array of steps, got {}", type_of(steps)));
                ok = false;
            } else if (steps.empty()) {
                add(sp, "a saga needs at least one step");
                ok = false;
            } else {
                std::unordered_map<std::string, std::string> step_names;
                for (std::size_t i = 0; i < steps.size(); ++i) {
                    auto s = step(steps[i], child(sp, i), step_names);
                    if (s) saga.steps.push_back(std::move(*s));
                    else ok = false;
                }
            }
        } else {
            ok = false;
        }
        if (ok) out_.sagas.push_back(std::move(saga));
    }

    std::optional<StepSpec> step(const json& v, const std::string& pointer,
                                 std::unordered_map<std::string, std::string>& names) {
        if (!object(v, pointer, "a step object")) return std::nullopt;
        known_keys(v, pointer, kStepKeys, {{"argv", "command"}, {"env", "command"}, {"cwd", "command"}});
        StepSpec s;
        bool ok = true;
        const auto field = [&](std::string_view key) { return child(pointer, key); };
        if (require(v, pointer, "name")) {
            if (auto n = text(v["name"], field("name"))) {
                s.name = *n;
                if (const auto it = names.find(*n); it != names.end()) {
                    add(field("name"), fmt::format("duplicate step name '{}' (first used at {})", *n, it->second));
                    ok = false;
                } else {
                    names.emplace(*n, field("name"));
                }
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (const json* d = member(v, "description")) text(*d, field("description"), true);
        if (require(v, pointer, "command")) {
            if (auto c = command(v["command"], field("command"))) s.command = std::move(*c);
            else ok = false;
        } else {
            ok = false;
        }
        if (const json* n = member(v, "no_compensation")) {
            if (auto b = boolean(*n, field("no_compensation"))) s.no_compensation = *b;
            else ok = false;
        }
        if (const json* c = member(v, "compensate")) {
            if (s.no_compensation) {
                add(field("no_compensation"), "a step with 'compensate' cannot also say \"no_compensation\": true");
                ok = false;
            }
            s.compensate = command(*c, field("compensate"));
            if (!s.compensate) ok = false;
        } else if (!s.no_compensation && ok) {
            add(pointer, "needs 'compensate' (a command that undoes the step) or \"no_compensation\": true");
            ok = false;
        }
        if (const json* t = member(v, "timeout")) {
            s.timeout = duration(*t, field("timeout"), Sign::positive);
            if (!s.timeout) ok = false;
        }
        if (const json* r = member(v, "retry")) {
            s.retry = retry_spec(*r, field("retry"));
            if (!s.retry) ok = false;
        }
        if (!ok) return std::nullopt;
        return s;
    }

    std::filesystem::path dir_;
    ScheduleFile& out_;
    std::set<std::string> declared_queues_;
    std::set<std::string> queue_names_;
    std::unordered_map<std::string, std::string> job_names_;      // name -> pointer of its first use
    std::unordered_map<std::string, std::string> saga_pointers_;  // name -> pointer of its first use
    std::set<std::string> saga_names_;
    std::vector<std::pair<std::string, std::string>> saga_refs_;  // pointer, saga name
    std::unordered_map<std::string, std::pair<BreakerSettings, std::string>> breakers_;
};

// Where `pointer` (or, for a key that is missing, its nearest existing
// parent) appears in the document.
std::size_t position(const std::unordered_map<std::string, std::size_t>& order, std::string pointer) {
    while (true) {
        if (const auto it = order.find(pointer); it != order.end()) return it->second;
        if (pointer.empty()) return 0;
        pointer.resize(pointer.rfind('/'));
    }
}

std::filesystem::path absolute_dir(const std::filesystem::path& directory) {
    std::error_code ec;
    std::filesystem::path dir = directory.empty() ? std::filesystem::current_path(ec) : directory;
    if (dir.is_relative()) {
        auto abs = std::filesystem::absolute(dir, ec);
        if (!ec) dir = abs;
    }
    return dir.lexically_normal();
}

}  // namespace

LoadResult parse_text(std::string_view text, const std::filesystem::path& directory) {
    detail::DomBuilder dom(text);
    if (!json::sax_parse(text, &dom, json::input_format_t::json, true, false)) {
        // Only the syntax error or the nesting: a partial document would give noise.
        return unexpected(Problems{dom.fatal.value_or(Problem{"", "invalid JSON"})});
    }

    ScheduleFile file;
    file.directory = absolute_dir(directory);
    Checker checker(file.directory, file);
    checker.check(dom.root);

    Problems problems = std::move(dom.duplicates);
    problems.insert(problems.end(), std::make_move_iterator(checker.problems.begin()),
                    std::make_move_iterator(checker.problems.end()));
    if (!problems.empty()) {
        std::stable_sort(problems.begin(), problems.end(), [&](const Problem& a, const Problem& b) {
            return position(dom.order, a.pointer) < position(dom.order, b.pointer);
        });
        return unexpected(std::move(problems));
    }
    return file;
}

Result<std::string, std::string> read_text_file(const std::filesystem::path& path) {
    const auto fail = [&](const std::string& why) {
        return unexpected(fmt::format("cannot read {}: {}", path.string(), why));
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail("is a directory");
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > kMaxFileBytes) return fail(fmt::format("larger than {} MiB", kMaxFileBytes >> 20U));
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(errno != 0 ? std::strerror(errno) : "cannot open");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return fail(errno != 0 ? std::strerror(errno) : "read error");
    return text;
}

LoadResult load_file(const std::filesystem::path& path) {
    auto text = read_text_file(path);
    if (!text) return unexpected(Problems{{"", std::move(text.error())}});
    auto result = parse_text(*text, path.has_parent_path() ? path.parent_path() : std::filesystem::path{});
    if (result) result->path = path;
    return result;
}

}  // namespace txflow::schedule_file
