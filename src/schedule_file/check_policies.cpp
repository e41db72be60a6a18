// The validator: a job's policies (timeout, retry, overlap, breaker) and misfire rule.

#include "checker.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "to_library.hpp"

namespace txflow::schedule_file::detail {
namespace {

const std::vector<std::string_view> kPolicyKeys{"timeout", "retry", "overlap", "breaker"};
const std::vector<std::string_view> kRetryKeys{"attempts", "backoff", "initial",    "multiplier",
                                               "max",      "jitter",  "max_elapsed"};
const std::vector<std::string_view> kBreakerKeys{"name",      "window",          "min_calls", "failure_rate",
                                                 "slow_call", "slow_percentile", "open_for",  "half_open_probes"};

}  // namespace

std::optional<RetrySpec> Checker::retry_spec(const json& v, const std::string& pointer) {
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
        if (auto d = duration(*i, field("initial"), exponential ? Sign::positive : Sign::non_negative)) r.initial = *d;
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

std::optional<BreakerSpec> Checker::breaker(const json& v, const std::string& pointer, const std::string& job_name) {
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
            add(pointer,
                fmt::format("breaker '{}' is already declared with other options at {}", b.name, it->second.second));
            return std::nullopt;
        }
    } else {
        breakers_.emplace(b.name, std::make_pair(o, pointer));
    }
    return b;
}

void Checker::policies(const json& v, const std::string& pointer, JobSpec& job) {
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

std::optional<MisfireSpec> Checker::misfire(const json& v, const std::string& pointer) {
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

}  // namespace txflow::schedule_file::detail
