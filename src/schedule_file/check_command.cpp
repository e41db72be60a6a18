// The validator: commands (argv, env with values from files, cwd, the
// environment they inherit, the user they run as), the top level's defaults
// for them, and what of their output is logged.

#include "checker.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace txflow::schedule_file::detail {
namespace {

const std::vector<std::string_view> kCommandKeys{"argv", "env", "cwd", "inherit_env", "env_allow", "user", "group"};
const std::vector<std::string_view> kOutputKeys{"head_bytes", "tail_bytes", "lines_per_second", "burst"};

bool valid_variable_name(std::string_view name) {
    return !name.empty() && name.find('=') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

// useradd's rule (a letter or '_' first, then letters, digits, '_', '-', '.',
// an optional trailing '$'), or all digits (a numeric id).
bool valid_account(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return s.size() <= 10;
    const auto lower = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!lower(s.front())) return false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (lower(c) || (c >= '0' && c <= '9') || c == '-' || c == '.') continue;
        if (c == '$' && i + 1 == s.size()) continue;
        return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> Checker::account(const json& v, const std::string& pointer, std::string_view what) {
    auto s = text(v, pointer);
    if (!s) return std::nullopt;
    if (!valid_account(*s)) {
        add(pointer, fmt::format("'{}' is not a valid {} name or number", *s, what));
        return std::nullopt;
    }
    return s;
}

std::optional<std::vector<std::string>> Checker::env_allow(const json& v, const std::string& pointer) {
    if (!v.is_array()) {
        add(pointer, fmt::format("expected an array of variable names, e.g. [\"PATH\", \"LANG\"], got {}", type_of(v)));
        return std::nullopt;
    }
    std::vector<std::string> names;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string p = child(pointer, i);
        auto s = text(v[i], p);
        if (!s) {
            ok = false;
        } else if (!valid_variable_name(*s)) {
            add(p, "a variable name must be non-empty, without '=' or NUL");
            ok = false;
        } else {
            names.push_back(*s);
        }
    }
    if (!ok) return std::nullopt;
    return names;
}

bool Checker::env(const json& v, const std::string& p, Command& c) {
    if (!v.is_object()) {
        add(p, fmt::format("expected an object of variable names and string values, got {}", type_of(v)));
        return false;
    }
    bool ok = true;
    for (const auto& [name, value] : v.items()) {
        const std::string vp = child(p, name);
        if (!valid_variable_name(name)) {
            add(vp, "a variable name must be non-empty, without '=' or NUL");
            ok = false;
            continue;
        }
        if (value.is_object()) {
            // A secret: {"file": "/run/credentials/pg"}, read by the daemon.
            known_keys(value, vp, {"file"}, {});
            if (!require(value, vp, "file")) {
                ok = false;
                continue;
            }
            if (auto f = path_string(value["file"], child(vp, "file"))) c.env_files[name] = resolve(*f);
            else ok = false;
            continue;
        }
        if (!value.is_string()) {
            add(vp, fmt::format("expected a string or {{\"file\": \"/path/to/secret\"}}, got {}", type_of(value)));
            ok = false;
            continue;
        }
        if (auto s = text(value, vp, true)) c.env[name] = *s;
        else ok = false;
    }
    return ok;
}

std::optional<Command> Checker::command(const json& v, const std::string& pointer) {
    if (!object(v, pointer, "a command object like {\"argv\": [\"program\", \"arg\"]}")) return std::nullopt;
    known_keys(v, pointer, kCommandKeys, {});
    Command c = defaults_;
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
    if (const json* e = member(v, "env")) ok = env(*e, child(pointer, "env"), c) && ok;
    if (const json* cwd = member(v, "cwd")) {
        if (auto s = path_string(*cwd, child(pointer, "cwd"))) c.cwd = resolve(*s);
        else ok = false;
    } else {
        c.cwd = dir_.string();
    }
    if (const json* b = member(v, "inherit_env")) {
        if (auto x = boolean(*b, child(pointer, "inherit_env"))) c.inherit_env = *x;
        else ok = false;
    }
    if (const json* a = member(v, "env_allow")) {
        if (auto names = env_allow(*a, child(pointer, "env_allow"))) c.env_allow = std::move(*names);
        else ok = false;
    }
    if (c.inherit_env && member(v, "env_allow") != nullptr) {
        add(child(pointer, "env_allow"),
            "env_allow applies only with \"inherit_env\": false (the whole environment is inherited otherwise)");
        ok = false;
    }
    if (c.inherit_env) c.env_allow.clear();  // the top level's list means nothing to a command that inherits all
    if (const json* u = member(v, "user")) {
        if (auto s = account(*u, child(pointer, "user"), "user")) c.user = *s;
        else ok = false;
    }
    if (const json* g = member(v, "group")) {
        if (auto s = account(*g, child(pointer, "group"), "group")) c.group = *s;
        else ok = false;
    }
    if (!ok) return std::nullopt;
    return c;
}

void Checker::command_defaults(const json& root) {
    if (const json* u = member(root, "user")) {
        if (auto s = account(*u, "/user", "user")) out_.user = defaults_.user = *s;
    }
    if (const json* g = member(root, "group")) {
        if (auto s = account(*g, "/group", "group")) out_.group = defaults_.group = *s;
    }
    if (const json* b = member(root, "inherit_env")) {
        if (auto x = boolean(*b, "/inherit_env")) defaults_.inherit_env = *x;
    }
    if (const json* a = member(root, "env_allow")) {
        if (auto names = env_allow(*a, "/env_allow")) {
            defaults_.env_allow = std::move(*names);
            if (defaults_.inherit_env && !defaults_.env_allow.empty())
                add("/env_allow", "env_allow applies only with \"inherit_env\": false");
        }
    }
}

void Checker::output(const json& v, const std::string& pointer) {
    if (!object(v, pointer, "an object like {\"head_bytes\": 32768, \"tail_bytes\": 32768}")) return;
    known_keys(v, pointer, kOutputKeys, {});
    constexpr std::int64_t kMaxBytes = std::int64_t{16} << 20;  // what one run may keep in memory for its tail
    if (const json* h = member(v, "head_bytes")) {
        if (auto n = integer(*h, child(pointer, "head_bytes"), 0, kMaxBytes))
            out_.output.head = static_cast<std::size_t>(*n);
    }
    if (const json* t = member(v, "tail_bytes")) {
        if (auto n = integer(*t, child(pointer, "tail_bytes"), 0, kMaxBytes))
            out_.output.tail = static_cast<std::size_t>(*n);
    }
    if (const json* r = member(v, "lines_per_second")) {
        if (auto n = integer(*r, child(pointer, "lines_per_second"), 1, 1'000'000))
            out_.output.lines_per_second = static_cast<std::uint32_t>(*n);
    }
    if (const json* b = member(v, "burst")) {
        if (auto n = integer(*b, child(pointer, "burst"), 1, 10'000'000))
            out_.output.burst = static_cast<std::uint32_t>(*n);
    }
}

}  // namespace txflow::schedule_file::detail
