// The validator: the top level of a schedule file, its log and queues.

#include "checker.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace txflow::schedule_file::detail {
namespace {

const std::vector<std::string_view> kTopKeys{"version", "description", "state_dir",   "log",          "workers",
                                             "queues",  "jobs",        "sagas",       "transactions", "output",
                                             "user",    "group",       "inherit_env", "env_allow",    "store"};
const std::vector<std::string_view> kLogKeys{"format", "level"};
const std::vector<std::string_view> kLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};

}  // namespace

void Checker::check(const json& root) {
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
    if (const json* v = member(root, "store")) store(*v, "/store");
    if (const json* v = member(root, "log")) log(*v, "/log");
    if (const json* v = member(root, "workers")) {
        if (auto n = integer(*v, "/workers", 1, 4096)) out_.workers = static_cast<std::size_t>(*n);
    }
    if (const json* v = member(root, "queues")) queues(*v, "/queues");
    if (const json* v = member(root, "output")) output(*v, "/output");
    command_defaults(root);  // before any command
    // Sagas and transactions before jobs: a job refers to one by name.
    if (const json* v = member(root, "sagas")) {
        if (!v->is_array()) {
            add("/sagas", fmt::format("expected an array of sagas, got {}", type_of(*v)));
        } else if (v->size() > kMaxSagas) {
            add("/sagas", fmt::format("{} sagas is over the limit of {}", v->size(), kMaxSagas));
        } else {
            for (std::size_t i = 0; i < v->size(); ++i) saga((*v)[i], child("/sagas", i));
        }
    }
    if (const json* v = member(root, "transactions")) {
        if (!v->is_array()) {
            add("/transactions", fmt::format("expected an array of transactions, got {}", type_of(*v)));
        } else if (v->size() > kMaxTransactions) {
            add("/transactions", fmt::format("{} transactions is over the limit of {}", v->size(), kMaxTransactions));
        } else {
            for (std::size_t i = 0; i < v->size(); ++i) transaction((*v)[i], child("/transactions", i));
        }
    }
    if (const json* v = member(root, "jobs")) {
        if (!v->is_array()) {
            add("/jobs", fmt::format("expected an array of jobs, got {}", type_of(*v)));
        } else if (v->size() > kMaxJobs) {
            add("/jobs", fmt::format("{} jobs is over the limit of {}", v->size(), kMaxJobs));
        } else {
            for (std::size_t i = 0; i < v->size(); ++i) job((*v)[i], child("/jobs", i));
        }
    }
    // References to sagas and transactions that do not exist (checked once every one is known).
    check_references("saga", saga_names_, saga_refs_);
    check_references("transaction", transaction_names_, transaction_refs_);
}

void Checker::check_references(std::string_view kind, const std::set<std::string>& names,
                               const std::vector<std::pair<std::string, std::string>>& refs) {
    for (const auto& [pointer, name] : refs) {
        if (names.count(name) != 0) continue;
        std::vector<std::string_view> candidates(names.begin(), names.end());
        add(pointer, fmt::format("no {} named '{}'{}", kind, name, hint(name, candidates)));
    }
}

void Checker::version(const json& root) {
    if (!require(root, "", "version")) return;
    const json& v = root["version"];
    if (!v.is_number_integer()) {
        add("/version", fmt::format("expected the integer {}, got {}", ScheduleFile::kVersion, type_of(v)));
    } else if (v.get<std::int64_t>() != ScheduleFile::kVersion) {
        add("/version",
            fmt::format("unsupported version {} (this txflow reads version {})", v.dump(), ScheduleFile::kVersion));
    }
}

// A cluster's database (docs/cluster.md): a PostgreSQL URL; its schema and
// options are libpq's business, so only the scheme is checked here.
void Checker::store(const json& v, const std::string& pointer) {
    auto s = text(v, pointer);
    if (!s) return;
    if (s->rfind("postgresql://", 0) != 0 && s->rfind("postgres://", 0) != 0) {
        // The value is not echoed: it may hold a password.
        add(pointer, "expected a PostgreSQL URL starting with postgresql:// (e.g. postgresql://app@db:5432/app)");
        return;
    }
    out_.store = *s;
}

void Checker::log(const json& v, const std::string& pointer) {
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

void Checker::queues(const json& v, const std::string& pointer) {
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

std::optional<Priority> Checker::priority(const json& v, const std::string& pointer) {
    auto s = choice(v, pointer, "priority", {"low", "normal", "high", "critical"});
    if (!s) return std::nullopt;
    if (*s == "low") return Priority::low;
    if (*s == "high") return Priority::high;
    if (*s == "critical") return Priority::critical;
    return Priority::normal;
}

std::optional<std::string> Checker::queue(const json& v, const std::string& pointer) {
    auto s = text(v, pointer);
    if (!s) return std::nullopt;
    if (declared_queues_.count(*s) == 0) {
        std::vector<std::string_view> names(declared_queues_.begin(), declared_queues_.end());
        add(pointer, fmt::format("queue '{}' is not declared in /queues{}", *s, hint(*s, names)));
        return std::nullopt;
    }
    return s;
}

}  // namespace txflow::schedule_file::detail
