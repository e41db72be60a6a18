#pragma once
// The schedule-file validator (private to src/schedule_file): one Checker
// walks the parsed document and collects every problem with its JSON pointer.
// Its sections live by what they check: check_values.cpp (keys, scalars,
// the name of a job, saga or step), check_command.cpp (commands, their
// environment and user, the daemon-wide defaults and output limits),
// check_top.cpp (the top level, log, queues), check_policies.cpp (retry, breaker, misfire),
// check_jobs.cpp and check_sagas.cpp (sagas and their steps).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_pointer.hpp"
#include "txflow/cron/zone.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::schedule_file::detail {

using nlohmann::json;
using std::chrono::milliseconds;

// "number 3", "string \"x\"", "true", "null", "object", "array".
std::string type_of(const json& v);
// "a, b or c".
std::string quoted_list(const std::vector<std::string_view>& items);

class Checker {
public:
    Checker(const std::filesystem::path& directory, ScheduleFile& out) : dir_(directory), out_(out) {}
    Problems problems;

    // check_top.cpp
    void check(const json& root);

private:
    // check_values.cpp: keys, scalars, commands, names
    void add(std::string pointer, std::string reason) { problems.push_back({std::move(pointer), std::move(reason)}); }
    static const json* member(const json& obj, std::string_view key) {
        const auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    }

    static std::string hint(std::string_view word, const std::vector<std::string_view>& candidates);
    // Unknown keys are errors (typo protection). `elsewhere` maps a key that
    // belongs one level down to where it goes ("retry" -> "policies").
    void known_keys(const json& obj, const std::string& pointer, const std::vector<std::string_view>& known,
                    const std::vector<std::pair<std::string_view, std::string_view>>& elsewhere);
    bool require(const json& obj, const std::string& pointer, std::string_view key);
    bool object(const json& v, const std::string& pointer, std::string_view what);
    // A string without NUL bytes (they cannot reach exec or the file system);
    // non-empty unless allow_empty.
    std::optional<std::string> text(const json& v, const std::string& pointer, bool allow_empty = false);
    std::optional<std::string> path_string(const json& v, const std::string& pointer) { return text(v, pointer); }
    std::string resolve(const std::string& path) const;
    std::optional<std::int64_t> integer(const json& v, const std::string& pointer, std::int64_t lo, std::int64_t hi);
    // A fraction in (0, 1].
    std::optional<double> fraction(const json& v, const std::string& pointer);

    enum class Sign : std::uint8_t { non_negative, positive };
    std::optional<milliseconds> duration(const json& v, const std::string& pointer, Sign sign);
    // One of `choices`; the reason lists them.
    std::optional<std::string> choice(const json& v, const std::string& pointer, std::string_view what,
                                      const std::vector<std::string_view>& choices);
    std::optional<bool> boolean(const json& v, const std::string& pointer);
    // The "name" (required; unique among `seen`, which maps a name to the
    // pointer of its first use) and the "description" of a job, saga or step.
    // False after a problem; `name` is set whenever "name" is a valid string,
    // a duplicate included.
    bool named_entry(const json& v, const std::string& pointer, std::string_view kind,
                     std::unordered_map<std::string, std::string>& seen, std::string& name);

    // check_command.cpp
    std::optional<Command> command(const json& v, const std::string& pointer);
    bool env(const json& v, const std::string& pointer, Command& c);
    std::optional<std::vector<std::string>> env_allow(const json& v, const std::string& pointer);
    // A user or group: a name as useradd allows it, or a number.
    std::optional<std::string> account(const json& v, const std::string& pointer, std::string_view what);
    // The top level's user, group, inherit_env and env_allow: defaults for every command.
    void command_defaults(const json& root);
    void output(const json& v, const std::string& pointer);

    // check_top.cpp
    void version(const json& root);
    void store(const json& v, const std::string& pointer);
    void log(const json& v, const std::string& pointer);
    void queues(const json& v, const std::string& pointer);
    std::optional<Priority> priority(const json& v, const std::string& pointer);
    std::optional<std::string> queue(const json& v, const std::string& pointer);

    // check_policies.cpp
    std::optional<RetrySpec> retry_spec(const json& v, const std::string& pointer);
    std::optional<BreakerSpec> breaker(const json& v, const std::string& pointer, const std::string& job_name);
    void policies(const json& v, const std::string& pointer, JobSpec& job);
    std::optional<MisfireSpec> misfire(const json& v, const std::string& pointer);

    // check_jobs.cpp
    const cron::Zone* zone(const std::string& name, const std::string& pointer);
    void job(const json& v, const std::string& pointer);
    bool trace_parent(const json& v, const std::string& pointer, JobSpec& job);

    // check_sagas.cpp
    void saga(const json& v, const std::string& pointer);
    std::optional<StepSpec> step(const json& v, const std::string& pointer,
                                 std::unordered_map<std::string, std::string>& names);

    // check_transactions.cpp
    void transaction(const json& v, const std::string& pointer);
    std::optional<ParticipantSpec> participant(const json& v, const std::string& pointer,
                                               std::unordered_map<std::string, std::string>& names);
    // A job's reference to a saga or transaction must name one (checked at the end).
    void check_references(std::string_view kind, const std::set<std::string>& names,
                          const std::vector<std::pair<std::string, std::string>>& refs);

    std::filesystem::path dir_;
    ScheduleFile& out_;
    Command defaults_;  // user, group, inherit_env, env_allow
    std::set<std::string> declared_queues_;
    std::set<std::string> queue_names_;
    std::unordered_map<std::string, std::string> job_names_;      // name -> pointer of its first use
    std::unordered_map<std::string, std::string> saga_pointers_;  // name -> pointer of its first use
    std::set<std::string> saga_names_;
    std::vector<std::pair<std::string, std::string>> saga_refs_;  // pointer, saga name
    std::unordered_map<std::string, std::string> transaction_pointers_;
    std::set<std::string> transaction_names_;
    std::vector<std::pair<std::string, std::string>> transaction_refs_;  // pointer, transaction name
    std::unordered_map<std::string, std::pair<BreakerSettings, std::string>> breakers_;
};

}  // namespace txflow::schedule_file::detail
