// The validator's building blocks: known keys, scalars (strings, numbers,
// durations, choices), and the name block of a job, saga or step (commands
// are check_command.cpp's).

#include "checker.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace txflow::schedule_file::detail {
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

bool Checker::named_entry(const json& v, const std::string& pointer, std::string_view kind,
                          std::unordered_map<std::string, std::string>& seen, std::string& name) {
    bool ok = false;
    if (require(v, pointer, "name")) {
        const std::string field = child(pointer, "name");
        if (auto s = text(v["name"], field)) {
            name = *s;
            if (const auto it = seen.find(*s); it != seen.end()) {
                add(field, fmt::format("duplicate {} name '{}' (first used at {})", kind, *s, it->second));
            } else {
                seen.emplace(*s, field);
                ok = true;
            }
        }
    }
    if (const json* d = member(v, "description")) text(*d, child(pointer, "description"), true);
    return ok;
}

std::string Checker::hint(std::string_view word, const std::vector<std::string_view>& candidates) {
    const std::string match = closest_match(word, candidates);
    return match.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", match);
}

void Checker::known_keys(const json& obj, const std::string& pointer, const std::vector<std::string_view>& known,
                         const std::vector<std::pair<std::string_view, std::string_view>>& elsewhere) {
    for (const auto& [key, value] : obj.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string reason = fmt::format("unknown key '{}'", key);
        const auto moved =
            std::find_if(elsewhere.begin(), elsewhere.end(), [&key = key](const auto& e) { return e.first == key; });
        if (moved != elsewhere.end()) {
            reason += fmt::format(" (it belongs in '{}')", moved->second);
        } else {
            reason += hint(key, known);
        }
        add(child(pointer, key), std::move(reason));
    }
}

bool Checker::require(const json& obj, const std::string& pointer, std::string_view key) {
    if (obj.contains(key)) return true;
    add(pointer, fmt::format("missing required key '{}'", key));
    return false;
}

bool Checker::object(const json& v, const std::string& pointer, std::string_view what) {
    if (v.is_object()) return true;
    add(pointer, fmt::format("expected {}, got {}", what, type_of(v)));
    return false;
}

std::optional<std::string> Checker::text(const json& v, const std::string& pointer, bool allow_empty) {
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

std::string Checker::resolve(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative()) p = dir_ / p;
    return p.lexically_normal().string();
}

std::optional<std::int64_t> Checker::integer(const json& v, const std::string& pointer, std::int64_t lo,
                                             std::int64_t hi) {
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

std::optional<double> Checker::fraction(const json& v, const std::string& pointer) {
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

std::optional<milliseconds> Checker::duration(const json& v, const std::string& pointer, Sign sign) {
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

std::optional<std::string> Checker::choice(const json& v, const std::string& pointer, std::string_view what,
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

std::optional<bool> Checker::boolean(const json& v, const std::string& pointer) {
    if (!v.is_boolean()) {
        add(pointer, fmt::format("expected true or false, got {}", type_of(v)));
        return std::nullopt;
    }
    return v.get<bool>();
}

}  // namespace txflow::schedule_file::detail
