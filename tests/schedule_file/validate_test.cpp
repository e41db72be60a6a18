// Schedule-file validation: every error case, each with its exact JSON
// pointer and reason; and what a valid file loads into.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "schedule_file/to_library.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace validate_test {

using namespace std::chrono_literals;
using txflow::schedule_file::parse_text;
using txflow::schedule_file::Problem;
using txflow::schedule_file::Problems;

namespace {

// A valid document around one job: queue "db" and saga "transfer" exist.
std::string with_job(const std::string& job) {
    return R"({"version": 1, "queues": {"db": 2},
  "sagas": [{"name": "transfer", "steps": [{"name": "debit", "command": {"argv": ["true"]}, "no_compensation": true}]}],
  "jobs": [)" +
           job + "]}";
}

// A valid document around one saga.
std::string with_saga(const std::string& saga) {
    return R"({"version": 1, "queues": {"db": 2}, "sagas": [)" + saga + "]}";
}

Problems problems_of(const std::string& text) {
    auto r = parse_text(text, "/srv/app");
    if (r) return {};
    return r.error();
}

struct Case {
    const char* what;
    std::string text;
    std::string pointer;
    std::string reason;
};

void check_cases(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        INFO(c.what);
        INFO(c.text);
        const Problems p = problems_of(c.text);
        REQUIRE(p.size() == 1);
        CHECK(p[0].pointer == c.pointer);
        CHECK(p[0].reason == c.reason);
    }
}

const std::string kCmd = R"("command": {"argv": ["true"]})";

}  // namespace

TEST_CASE("validation: the fixtures themselves are valid", "[config][validate]") {
    CHECK(problems_of(with_job(R"({"name": "a", "cron": "* * * * *", )" + kCmd + "}")).empty());
    CHECK(problems_of(with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd + R"(, "no_compensation": true}]})"))
              .empty());
}

TEST_CASE("validation: the document", "[config][validate]") {
    check_cases({
        {"invalid JSON", "{", "",
         "invalid JSON at line 1, column 2: syntax error while parsing object key - unexpected end of input; expected "
         "string literal"},
        {"invalid JSON, line and column", "{\n  \"version\": 1,\n}", "",
         "invalid JSON at line 3, column 1: syntax error while parsing object key - unexpected '}'; expected string "
         "literal"},
        {"empty file", "", "",
         "invalid JSON at line 1, column 1: syntax error while parsing value - unexpected end of input; expected '[', "
         "'{', or a literal"},
        {"not an object", "[1]", "", "a schedule file is a JSON object, got array"},
        {"missing version", "{}", "", "missing required key 'version'"},
        {"unsupported version", R"({"version": 2})", "/version", "unsupported version 2 (this txflow reads version 1)"},
        {"version as a string", R"({"version": "1"})", "/version", "expected the integer 1, got string \"1\""},
        {"unknown key with a hint", R"({"version": 1, "job": []})", "/job", "unknown key 'job' (did you mean 'jobs'?)"},
        {"unknown key without a hint", R"({"version": 1, "banana": 1})", "/banana", "unknown key 'banana'"},
        {"duplicate key", R"({"version": 1, "version": 1})", "/version", "duplicate key 'version'"},
        {"state_dir type", R"({"version": 1, "state_dir": 5})", "/state_dir", "expected a string, got number 5"},
        {"state_dir empty", R"({"version": 1, "state_dir": ""})", "/state_dir", "must not be empty"},
        {"description type", R"({"version": 1, "description": []})", "/description", "expected a string, got array"},
        {"log type", R"({"version": 1, "log": "json"})", "/log", "expected an object, got string \"json\""},
        {"log format", R"({"version": 1, "log": {"format": "xml"}})", "/log/format",
         "unknown log format 'xml' (use text or json)"},
        {"log level", R"({"version": 1, "log": {"level": "loud"}})", "/log/level",
         "unknown log level 'loud' (use trace, debug, info, warn, error, critical or off)"},
        {"log unknown key", R"({"version": 1, "log": {"formt": "json"}})", "/log/formt",
         "unknown key 'formt' (did you mean 'format'?)"},
        {"workers zero", R"({"version": 1, "workers": 0})", "/workers", "0 is out of range 1-4096"},
        {"workers fraction", R"({"version": 1, "workers": 1.5})", "/workers", "expected an integer, got number 1.5"},
        {"queues type", R"({"version": 1, "queues": ["db"]})", "/queues",
         "expected an object of queue names and concurrency limits, e.g. {\"db\": 2}, got array"},
        {"queue limit", R"({"version": 1, "queues": {"db": 0}})", "/queues/db", "0 is out of range 1-1048576"},
        {"queue name", R"({"version": 1, "queues": {"": 1}})", "/queues/", "a queue name must not be empty"},
        {"jobs type", R"({"version": 1, "jobs": {}})", "/jobs", "expected an array of jobs, got object"},
        {"job type", R"({"version": 1, "jobs": [3]})", "/jobs/0", "expected a job object, got number 3"},
        {"sagas type", R"({"version": 1, "sagas": "x"})", "/sagas", "expected an array of sagas, got string \"x\""},
        {"pointer escaping", R"({"version": 1, "queues": {"a/b~c": 0}})", "/queues/a~1b~0c",
         "0 is out of range 1-1048576"},
    });
}

TEST_CASE("validation: a job's name and trigger", "[config][validate]") {
    check_cases({
        {"missing name", with_job(R"({"cron": "* * * * *", )" + kCmd + "}"), "/jobs/0", "missing required key 'name'"},
        {"empty name", with_job(R"({"name": "", "cron": "* * * * *", )" + kCmd + "}"), "/jobs/0/name",
         "must not be empty"},
        {"name type", with_job(R"({"name": 1, "cron": "* * * * *", )" + kCmd + "}"), "/jobs/0/name",
         "expected a string, got number 1"},
        {"duplicate name (points at the second)",
         with_job(R"({"name": "a", "cron": "* * * * *", )" + kCmd + R"(}, {"name": "a", "every": "1s", )" + kCmd + "}"),
         "/jobs/1/name", "duplicate job name 'a' (first used at /jobs/0/name)"},
        {"no trigger", with_job(R"({"name": "a", )" + kCmd + "}"), "/jobs/0",
         "missing a trigger: one of 'cron', 'every' or 'at'"},
        {"two triggers", with_job(R"({"name": "a", "cron": "* * * * *", "every": "1s", )" + kCmd + "}"), "/jobs/0",
         "has both 'cron' and 'every': a job has exactly one trigger"},
        {"cron out of range", with_job(R"({"name": "a", "cron": "0 0 25 * * *", )" + kCmd + "}"), "/jobs/0/cron",
         "hour (field 3, col 5): 25 is out of range 0-23"},
        {"cron field count", with_job(R"({"name": "a", "cron": "* * * *", )" + kCmd + "}"), "/jobs/0/cron",
         "col 1: expected 5 to 7 fields, got 4"},
        {"cron unknown CRON_TZ zone",
         with_job(R"({"name": "a", "cron": "CRON_TZ=Mars/Olympus * * * * *", )" + kCmd + "}"), "/jobs/0/cron",
         "col 9: unknown time zone \"Mars/Olympus\""},
        {"cron type", with_job(R"({"name": "a", "cron": 5, )" + kCmd + "}"), "/jobs/0/cron",
         "expected a string, got number 5"},
        {"every bad unit", with_job(R"({"name": "a", "every": "10sec", )" + kCmd + "}"), "/jobs/0/every",
         "unknown unit \"sec\" in \"10sec\" (use ns, us, ms, s, m or h)"},
        {"every zero", with_job(R"({"name": "a", "every": "0s", )" + kCmd + "}"), "/jobs/0/every", "must be positive"},
        {"every number", with_job(R"({"name": "a", "every": 60, )" + kCmd + "}"), "/jobs/0/every",
         "expected a duration string like \"90s\" or \"1m30s\", got number 60"},
        {"at not RFC 3339", with_job(R"({"name": "a", "at": "tomorrow", )" + kCmd + "}"), "/jobs/0/at",
         "\"tomorrow\" is not an RFC 3339 time (e.g. 2026-03-07T12:00:00Z or 2026-03-07T13:00:00+01:00)"},
        {"unknown zone with a hint",
         with_job(R"({"name": "a", "cron": "* * * * *", "zone": "Europe/Berln", )" + kCmd + "}"), "/jobs/0/zone",
         "unknown time zone \"Europe/Berln\" (did you mean \"Europe/Berlin\"?)"},
        {"unknown zone", with_job(R"({"name": "a", "cron": "* * * * *", "zone": "Mars/Olympus", )" + kCmd + "}"),
         "/jobs/0/zone", "unknown time zone \"Mars/Olympus\""},
        {"zone on an every job", with_job(R"({"name": "a", "every": "1s", "zone": "UTC", )" + kCmd + "}"),
         "/jobs/0/zone", "applies to 'cron' jobs only ('every' counts from the start, 'at' has an offset)"},
    });
}

TEST_CASE("validation: a job's settings", "[config][validate]") {
    const auto job = [](const std::string& extra) {
        return with_job(R"({"name": "a", "cron": "* * * * *", )" + kCmd + ", " + extra + "}");
    };
    check_cases({
        {"priority", job(R"("priority": "urgent")"), "/jobs/0/priority",
         "unknown priority 'urgent' (use low, normal, high or critical)"},
        {"priority type", job(R"("priority": 3)"), "/jobs/0/priority",
         "expected a string (low, normal, high or critical), got number 3"},
        {"undeclared queue with a hint", job(R"("queue": "dbs")"), "/jobs/0/queue",
         "queue 'dbs' is not declared in /queues (did you mean 'db'?)"},
        {"undeclared queue", job(R"("queue": "reports")"), "/jobs/0/queue",
         "queue 'reports' is not declared in /queues"},
        {"jitter", job(R"("jitter": "soon")"), "/jobs/0/jitter",
         "expected a number at \"soon\" in \"soon\" (e.g. \"90s\", \"1m30s\")"},
        {"misfire word", job(R"("misfire": "fire_twice")"), "/jobs/0/misfire",
         "unknown misfire policy 'fire_twice' (use \"fire_once\", \"skip\" or {\"fire_all\": N})"},
        {"misfire object", job(R"("misfire": {"fire_some": 2})"), "/jobs/0/misfire",
         "expected \"fire_once\", \"skip\" or {\"fire_all\": N}"},
        {"misfire cap", job(R"("misfire": {"fire_all": 0})"), "/jobs/0/misfire/fire_all",
         "0 is out of range 1-1000000"},
        {"misfire type", job(R"("misfire": true)"), "/jobs/0/misfire",
         "expected \"fire_once\", \"skip\" or {\"fire_all\": N}, got true"},
        {"unknown key with a hint", job(R"("queu": "db")"), "/jobs/0/queu",
         "unknown key 'queu' (did you mean 'queue'?)"},
        {"a policy outside policies", job(R"("retry": {})"), "/jobs/0/retry",
         "unknown key 'retry' (it belongs in 'policies')"},
        {"a command key outside command", job(R"("env": {})"), "/jobs/0/env",
         "unknown key 'env' (it belongs in 'command')"},
        {"description type", job(R"("description": 1)"), "/jobs/0/description", "expected a string, got number 1"},
    });
}

TEST_CASE("validation: policies", "[config][validate]") {
    const auto policies = [](const std::string& p) {
        return with_job(R"({"name": "a", "cron": "* * * * *", )" + kCmd + R"(, "policies": )" + p + "}");
    };
    check_cases({
        {"policies type", policies("[]"), "/jobs/0/policies", "expected an object, got array"},
        {"unknown policy with a hint", policies(R"({"retires": {}})"), "/jobs/0/policies/retires",
         "unknown key 'retires' (did you mean 'retry'?)"},
        {"timeout zero", policies(R"({"timeout": "0s"})"), "/jobs/0/policies/timeout", "must be positive"},
        {"timeout number", policies(R"({"timeout": 5})"), "/jobs/0/policies/timeout",
         "expected a duration string like \"90s\" or \"1m30s\", got number 5"},
        {"retry type", policies(R"({"retry": 3})"), "/jobs/0/policies/retry", "expected an object, got number 3"},
        {"retry attempts", policies(R"({"retry": {"attempts": 0}})"), "/jobs/0/policies/retry/attempts",
         "0 is out of range 1-1000"},
        {"retry backoff", policies(R"({"retry": {"backoff": "linear"}})"), "/jobs/0/policies/retry/backoff",
         "unknown backoff 'linear' (use fixed or exponential)"},
        {"retry initial for exponential", policies(R"({"retry": {"initial": "0s"}})"), "/jobs/0/policies/retry/initial",
         "must be positive"},
        {"retry multiplier with fixed", policies(R"({"retry": {"backoff": "fixed", "multiplier": 2}})"),
         "/jobs/0/policies/retry/multiplier", "applies to \"backoff\": \"exponential\" only"},
        {"retry max with fixed", policies(R"({"retry": {"backoff": "fixed", "max": "1m"}})"),
         "/jobs/0/policies/retry/max", "applies to \"backoff\": \"exponential\" only"},
        {"retry multiplier below 1", policies(R"({"retry": {"multiplier": 0.5}})"), "/jobs/0/policies/retry/multiplier",
         "0.5 is out of range 1-1000"},
        {"retry max below initial", policies(R"({"retry": {"initial": "10s", "max": "5s"}})"),
         "/jobs/0/policies/retry/max", "must be at least 'initial' (10s)"},
        {"retry jitter", policies(R"({"retry": {"jitter": "some"}})"), "/jobs/0/policies/retry/jitter",
         "unknown jitter 'some' (use none, full, equal or decorrelated)"},
        {"retry unknown key", policies(R"({"retry": {"atempts": 2}})"), "/jobs/0/policies/retry/atempts",
         "unknown key 'atempts' (did you mean 'attempts'?)"},
        {"overlap", policies(R"({"overlap": "queue"})"), "/jobs/0/policies/overlap",
         "unknown overlap policy 'queue' (use allow, skip or delay)"},
        {"breaker type", policies(R"({"breaker": true})"), "/jobs/0/policies/breaker", "expected an object, got true"},
        {"breaker min_calls above window", policies(R"({"breaker": {"window": 5, "min_calls": 6}})"),
         "/jobs/0/policies/breaker/min_calls", "must not exceed 'window' (5)"},
        {"breaker failure_rate", policies(R"({"breaker": {"failure_rate": 0}})"),
         "/jobs/0/policies/breaker/failure_rate", "0 is out of range: must be above 0 and at most 1"},
        {"breaker slow_percentile", policies(R"({"breaker": {"slow_percentile": 1.5}})"),
         "/jobs/0/policies/breaker/slow_percentile", "1.5 is out of range: must be above 0 and at most 1"},
        {"breaker half_open_probes", policies(R"({"breaker": {"half_open_probes": 0}})"),
         "/jobs/0/policies/breaker/half_open_probes", "0 is out of range 1-100000"},
        {"breaker open_for", policies(R"({"breaker": {"open_for": "-1s"}})"), "/jobs/0/policies/breaker/open_for",
         "negative duration \"-1s\""},
        {"breaker unknown key", policies(R"({"breaker": {"treshold": 0.5}})"), "/jobs/0/policies/breaker/treshold",
         "unknown key 'treshold'"},
    });
}

TEST_CASE("validation: a shared breaker must be declared alike", "[config][validate]") {
    const std::string text = with_job(R"({"name": "a", "cron": "* * * * *", )" + kCmd +
                                      R"(, "policies": {"breaker": {"name": "db", "window": 10}}},
                 {"name": "b", "cron": "* * * * *", )" +
                                      kCmd + R"(, "policies": {"breaker": {"name": "db", "window": 20}}})");
    const Problems p = problems_of(text);
    REQUIRE(p.size() == 1);
    CHECK(p[0] == Problem{"/jobs/1/policies/breaker",
                          "breaker 'db' is already declared with other options at /jobs/0/policies/breaker"});
}

TEST_CASE("validation: what a job runs", "[config][validate]") {
    const auto job = [](const std::string& what) {
        return with_job(R"({"name": "a", "cron": "* * * * *")" + std::string(what.empty() ? "" : ", ") + what + "}");
    };
    check_cases({
        {"nothing to run", job(""), "/jobs/0", "missing 'command', 'saga' or 'transaction': what the job runs"},
        {"both", job(kCmd + R"(, "saga": "transfer")"), "/jobs/0",
         "has both 'command' and 'saga': a job runs one of them"},
        {"command type", job(R"("command": "echo hi")"), "/jobs/0/command",
         "expected a command object like {\"argv\": [\"program\", \"arg\"]}, got string \"echo hi\""},
        {"argv missing", job(R"("command": {"cwd": "/tmp"})"), "/jobs/0/command", "missing required key 'argv'"},
        {"argv type", job(R"("command": {"argv": "echo hi"})"), "/jobs/0/command/argv",
         "expected an array of strings (program, then arguments), got string \"echo hi\""},
        {"argv empty", job(R"("command": {"argv": []})"), "/jobs/0/command/argv",
         "must not be empty: the first element is the program to run"},
        {"argv program empty", job(R"("command": {"argv": [""]})"), "/jobs/0/command/argv/0", "must not be empty"},
        {"argv element type", job(R"("command": {"argv": ["echo", 1]})"), "/jobs/0/command/argv/1",
         "expected a string, got number 1"},
        {"argv NUL", job(R"("command": {"argv": ["echo", "a\u0000b"]})"), "/jobs/0/command/argv/1",
         "must not contain a NUL character"},
        {"env type", job(R"("command": {"argv": ["true"], "env": ["A=1"]})"), "/jobs/0/command/env",
         "expected an object of variable names and string values, got array"},
        {"env value type", job(R"("command": {"argv": ["true"], "env": {"N": 1}})"), "/jobs/0/command/env/N",
         "expected a string or {\"file\": \"/path/to/secret\"}, got number 1"},
        {"env name", job(R"("command": {"argv": ["true"], "env": {"A=B": "1"}})"), "/jobs/0/command/env/A=B",
         "a variable name must be non-empty, without '=' or NUL"},
        {"cwd type", job(R"("command": {"argv": ["true"], "cwd": 1})"), "/jobs/0/command/cwd",
         "expected a string, got number 1"},
        {"command unknown key", job(R"("command": {"argv": ["true"], "arg": 1})"), "/jobs/0/command/arg",
         "unknown key 'arg' (did you mean 'argv'?)"},
        {"unknown saga with a hint", job(R"("saga": "transfr")"), "/jobs/0/saga",
         "no saga named 'transfr' (did you mean 'transfer'?)"},
        {"unknown saga", job(R"("saga": "payroll")"), "/jobs/0/saga", "no saga named 'payroll'"},
        {"input without saga", job(kCmd + R"(, "input": {})"), "/jobs/0/input",
         "applies to 'saga' and 'transaction' jobs only (it is their input data)"},
        {"input type", job(R"("saga": "transfer", "input": [1])"), "/jobs/0/input", "expected an object, got array"},
    });
}

TEST_CASE("validation: sagas", "[config][validate]") {
    const std::string step = R"({"name": "a", )" + kCmd + R"(, "no_compensation": true})";
    check_cases({
        {"saga type", with_saga("1"), "/sagas/0", "expected a saga object, got number 1"},
        {"missing name", with_saga(R"({"steps": [)" + step + "]}"), "/sagas/0", "missing required key 'name'"},
        {"duplicate name",
         with_saga(R"({"name": "s", "steps": [)" + step + R"(]}, {"name": "s", "steps": [)" + step + "]}"),
         "/sagas/1/name", "duplicate saga name 's' (first used at /sagas/0/name)"},
        {"missing steps", with_saga(R"({"name": "s"})"), "/sagas/0", "missing required key 'steps'"},
        {"steps type", with_saga(R"({"name": "s", "steps": {}})"), "/sagas/0/steps",
         "expected an array of steps, got object"},
        {"no steps", with_saga(R"({"name": "s", "steps": []})"), "/sagas/0/steps", "a saga needs at least one step"},
        {"on_recovery", with_saga(R"({"name": "s", "on_recovery": "retry", "steps": [)" + step + "]}"),
         "/sagas/0/on_recovery", "unknown recovery 'retry' (use resume or compensate)"},
        {"saga queue", with_saga(R"({"name": "s", "queue": "nope", "steps": [)" + step + "]}"), "/sagas/0/queue",
         "queue 'nope' is not declared in /queues"},
        {"saga unknown key", with_saga(R"({"name": "s", "stepz": [], "steps": [)" + step + "]}"), "/sagas/0/stepz",
         "unknown key 'stepz' (did you mean 'steps'?)"},
        {"step type", with_saga(R"({"name": "s", "steps": ["a"]})"), "/sagas/0/steps/0",
         "expected a step object, got string \"a\""},
        {"step without a compensation", with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd + "}]}"),
         "/sagas/0/steps/0", "needs 'compensate' (a command that undoes the step) or \"no_compensation\": true"},
        {"step with both",
         with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd +
                   R"(, "compensate": {"argv": ["true"]}, "no_compensation": true}]})"),
         "/sagas/0/steps/0/no_compensation", "a step with 'compensate' cannot also say \"no_compensation\": true"},
        {"no_compensation type",
         with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd + R"(, "no_compensation": "yes"}]})"),
         "/sagas/0/steps/0/no_compensation", "expected true or false, got string \"yes\""},
        {"step missing command", with_saga(R"({"name": "s", "steps": [{"name": "a", "no_compensation": true}]})"),
         "/sagas/0/steps/0", "missing required key 'command'"},
        {"duplicate step", with_saga(R"({"name": "s", "steps": [)" + step + ", " + step + "]}"),
         "/sagas/0/steps/1/name", "duplicate step name 'a' (first used at /sagas/0/steps/0/name)"},
        {"step timeout",
         with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd +
                   R"(, "no_compensation": true, "timeout": "0s"}]})"),
         "/sagas/0/steps/0/timeout", "must be positive"},
        {"step retry",
         with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd +
                   R"(, "no_compensation": true, "retry": {"attempts": -1}}]})"),
         "/sagas/0/steps/0/retry/attempts", "-1 is out of range 1-1000"},
        {"step command key outside command",
         with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd + R"(, "no_compensation": true, "argv": []}]})"),
         "/sagas/0/steps/0/argv", "unknown key 'argv' (it belongs in 'command')"},
        {"compensate type",
         with_saga(R"({"name": "s", "steps": [{"name": "a", )" + kCmd + R"(, "compensate": ["undo"]}]})"),
         "/sagas/0/steps/0/compensate", "expected a command object like {\"argv\": [\"program\", \"arg\"]}, got array"},
    });
}

TEST_CASE("validation: every problem is reported, in document order", "[config][validate]") {
    const std::string text = R"({
  "version": 1,
  "jobs": [
    {"name": "a", "cron": "0 0 25 * * *", "command": {"argv": []}},
    {"name": "b", "every": "10sec", "queue": "db", "command": {"argv": ["true"]}},
    {"name": "a", "at": "2026-03-07T12:00:00Z", "saga": "nope", "policies": {"retires": {}}}
  ],
  "wokers": 3
})";
    const Problems p = problems_of(text);
    const Problems expected{
        {"/jobs/0/cron", "hour (field 3, col 5): 25 is out of range 0-23"},
        {"/jobs/0/command/argv", "must not be empty: the first element is the program to run"},
        {"/jobs/1/every", "unknown unit \"sec\" in \"10sec\" (use ns, us, ms, s, m or h)"},
        {"/jobs/1/queue", "queue 'db' is not declared in /queues"},
        {"/jobs/2/name", "duplicate job name 'a' (first used at /jobs/0/name)"},
        {"/jobs/2/saga", "no saga named 'nope'"},
        {"/jobs/2/policies/retires", "unknown key 'retires' (did you mean 'retry'?)"},
        {"/wokers", "unknown key 'wokers' (did you mean 'workers'?)"},
    };
    CHECK(p == expected);
    CHECK(p[0].to_string() == "/jobs/0/cron: hour (field 3, col 5): 25 is out of range 0-23");
}

TEST_CASE("loading: a valid file becomes the model", "[config][validate]") {
    const std::string text = R"({
  "version": 1,
  "state_dir": "state",
  "log": {"format": "json", "level": "debug"},
  "workers": 3,
  "queues": {"db": 2, "io": 1},
  "jobs": [
    {"name": "backup", "cron": "0 30 2 * * *", "zone": "Europe/Berlin", "priority": "high", "queue": "db",
     "jitter": "30s", "misfire": {"fire_all": 3},
     "policies": {"timeout": "1h", "overlap": "skip",
                  "retry": {"attempts": 5, "backoff": "exponential", "initial": "1s", "multiplier": 3, "max": "1m",
                            "jitter": "full", "max_elapsed": "10m"},
                  "breaker": {"name": "s3", "window": 10, "min_calls": 5, "failure_rate": 0.6, "open_for": "1m"}},
     "command": {"argv": ["backup.sh", "--full"], "env": {"MODE": "full"}, "cwd": "scripts"}},
    {"name": "poll", "every": "1m30s", "misfire": "skip", "command": {"argv": ["/bin/true"], "cwd": "/var/tmp"}},
    {"name": "once", "at": "2030-01-01T00:00:00+01:00", "saga": "transfer", "input": {"amount": 5}}
  ],
  "sagas": [
    {"name": "transfer", "on_recovery": "compensate", "priority": "critical", "queue": "io",
     "steps": [
       {"name": "debit", "command": {"argv": ["debit"]}, "compensate": {"argv": ["credit"]}, "timeout": "5s",
        "retry": {"attempts": 2, "backoff": "fixed", "initial": "0s"}},
       {"name": "notify", "command": {"argv": ["notify"]}, "no_compensation": true}
     ]}
  ]
})";
    auto r = parse_text(text, "/srv/app");
    REQUIRE(r);
    const auto& f = *r;
    CHECK(f.directory == "/srv/app");
    CHECK(f.state_dir == "/srv/app/state");
    CHECK(f.log.format == txflow::schedule_file::LogFormat::json);
    CHECK(f.log.level == "debug");
    CHECK(f.workers == std::optional<std::size_t>(3));
    REQUIRE(f.queues.size() == 2);
    REQUIRE(f.jobs.size() == 3);
    REQUIRE(f.sagas.size() == 1);

    const auto& backup = f.jobs[0];
    CHECK(backup.name == "backup");
    CHECK(backup.trigger == txflow::schedule_file::TriggerKind::cron);
    REQUIRE(backup.schedule);
    CHECK(backup.schedule->zone().name() == "Europe/Berlin");
    CHECK(backup.priority == txflow::Priority::high);
    CHECK(backup.queue == "db");
    CHECK(backup.jitter == 30s);
    REQUIRE(backup.misfire);
    CHECK(backup.misfire->mode == txflow::schedule_file::MisfireSpec::Mode::fire_all);
    CHECK(backup.misfire->cap == 3);
    CHECK(backup.timeout == std::optional<std::chrono::milliseconds>(1h));
    CHECK(backup.overlap == txflow::schedule_file::Overlap::skip);
    REQUIRE(backup.retry);
    CHECK(backup.retry->attempts == 5);
    CHECK(backup.retry->initial == 1s);
    CHECK(backup.retry->multiplier == 3.0);
    CHECK(backup.retry->max == 1min);
    CHECK(backup.retry->jitter == txflow::retry::Jitter::full);
    CHECK(backup.retry->max_elapsed == std::optional<std::chrono::milliseconds>(10min));
    const auto policy = txflow::schedule_file::to_policy(*backup.retry);
    CHECK(policy.max_attempts() == 5);
    CHECK(policy.cap() == 1min);
    REQUIRE(backup.breaker);
    CHECK(backup.breaker->name == "s3");
    CHECK(backup.breaker->options.window == 10);
    CHECK(backup.breaker->options.min_calls == 5);
    CHECK(backup.breaker->options.failure_rate == 0.6);
    CHECK(backup.breaker->options.open_for == 1min);
    REQUIRE(backup.command);
    CHECK(backup.command->argv == std::vector<std::string>{"backup.sh", "--full"});
    CHECK(backup.command->env.at("MODE") == "full");
    CHECK(backup.command->cwd == "/srv/app/scripts");
    CHECK(backup.schedule_text() == "cron 0 30 2 * * *");

    const auto& poll = f.jobs[1];
    CHECK(poll.every == 90s);
    CHECK(poll.schedule_text() == "every 1m30s");
    CHECK(poll.misfire->mode == txflow::schedule_file::MisfireSpec::Mode::skip);
    CHECK(poll.command->cwd == "/var/tmp");
    CHECK(poll.display_zone().is_utc());

    const auto& once = f.jobs[2];
    CHECK(once.trigger == txflow::schedule_file::TriggerKind::at);
    CHECK(once.schedule_text() == "at 2029-12-31T23:00:00Z");
    CHECK(once.saga == "transfer");
    CHECK(once.input == nlohmann::json{{"amount", 5}});

    const auto& transfer = f.sagas[0];
    CHECK(transfer.on_recovery == txflow::schedule_file::OnRecovery::compensate);
    CHECK(transfer.priority == txflow::Priority::critical);
    CHECK(transfer.queue == "io");
    REQUIRE(transfer.steps.size() == 2);
    CHECK(transfer.steps[0].compensate->argv == std::vector<std::string>{"credit"});
    CHECK(transfer.steps[0].command.cwd == "/srv/app");  // no cwd: the file's directory
    CHECK(transfer.steps[0].timeout == std::optional<std::chrono::milliseconds>(5s));
    CHECK(transfer.steps[0].retry->backoff == txflow::retry::Backoff::fixed);
    CHECK(transfer.steps[0].retry->initial == 0ms);
    CHECK(transfer.steps[1].no_compensation);
    CHECK_FALSE(transfer.steps[1].compensate);
}

TEST_CASE("loading: defaults", "[config][validate]") {
    auto r =
        parse_text(R"({"version": 1, "jobs": [{"name": "a", "every": "1s", "command": {"argv": ["x"]}}]})", "/srv");
    REQUIRE(r);
    CHECK(r->state_dir.empty());
    CHECK(r->log.format == txflow::schedule_file::LogFormat::text);
    CHECK(r->log.level == "info");
    CHECK_FALSE(r->workers);
    const auto& j = r->jobs[0];
    CHECK(j.priority == txflow::Priority::normal);
    CHECK(j.queue.empty());
    CHECK(j.jitter == 0ms);
    CHECK_FALSE(j.misfire);
    CHECK_FALSE(j.timeout);
    CHECK_FALSE(j.retry);
    CHECK(j.overlap == txflow::schedule_file::Overlap::allow);
    CHECK_FALSE(j.breaker);
    CHECK(j.command->cwd == "/srv");
}

TEST_CASE("next fires of each trigger", "[config]") {
    auto r = parse_text(R"({"version": 1, "jobs": [
        {"name": "c", "cron": "CRON_TZ=America/New_York 0 30 2 * * *", "command": {"argv": ["x"]}},
        {"name": "e", "every": "90s", "command": {"argv": ["x"]}},
        {"name": "past", "at": "2020-01-01T00:00:00Z", "command": {"argv": ["x"]}},
        {"name": "future", "at": "2030-01-01T00:00:00Z", "command": {"argv": ["x"]}}]})");
    REQUIRE(r);
    const auto from = *txflow::cron::parse_rfc3339("2026-03-07T12:00:00Z");
    const auto iso = [](txflow::cron::Instant t, const txflow::cron::Zone& z) {
        return txflow::cron::to_rfc3339(t, z);
    };
    const auto c = r->jobs[0].next_fires(from, 2);
    REQUIRE(c.size() == 2);
    CHECK(iso(c[0], r->jobs[0].display_zone()) == "2026-03-08T03:00:00-04:00");  // the DST gap
    CHECK(iso(c[1], r->jobs[0].display_zone()) == "2026-03-09T02:30:00-04:00");
    const auto e = r->jobs[1].next_fires(from, 2);
    REQUIRE(e.size() == 2);
    CHECK(e[1] - from == 180s);
    CHECK(r->jobs[2].next_fires(from, 3).empty());
    CHECK(r->jobs[3].next_fires(from, 3).size() == 1);
}

TEST_CASE("canonical forms ignore spelling, not meaning", "[config]") {
    auto a = parse_text(R"({"version": 1, "jobs": [{"name": "j", "every": "60s", "priority": "normal",
        "command": {"argv": ["x"]}}]})",
                        "/d");
    auto b = parse_text(R"({"version": 1, "jobs": [{"command": {"argv": ["x"], "cwd": "/d"}, "every": "1m",
        "name": "j"}]})",
                        "/d");
    auto c = parse_text(R"({"version": 1, "jobs": [{"name": "j", "every": "2m", "command": {"argv": ["x"]}}]})", "/d");
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(a->canonical(a->jobs[0]) == b->canonical(b->jobs[0]));
    CHECK(a->canonical(a->jobs[0]) != c->canonical(c->jobs[0]));
}

}  // namespace validate_test
