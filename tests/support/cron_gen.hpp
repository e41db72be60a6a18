#pragma once
// Random cron expressions from a grammar, each with the Spec the parser must
// produce for it (computed here from the text's meaning, field by field).

#include <array>
#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "txflow/cron/spec.hpp"

namespace txflow::cron_gen {

using txflow::cron::Spec;

struct Generated {
    std::string text;
    Spec expected;
    int fields = 5;
    bool check_dom_any = true;  // false when the field starts with "*/" (flag not pinned by the rules)
    bool check_dow_any = true;
};

class Generator {
public:
    explicit Generator(std::uint32_t seed) : rng_(seed) {}

    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool chance(int percent) { return uniform(1, 100) <= percent; }
    std::mt19937& rng() { return rng_; }

    Generated expression() {
        Generated g;
        Spec& s = g.expected;
        const int roll = uniform(1, 100);
        g.fields = roll <= 45 ? 5 : (roll <= 85 ? 6 : 7);
        std::vector<std::string> parts;
        if (g.fields >= 6) {
            bool star = false;
            parts.push_back(numeric_field(0, 59, nullptr, s.seconds, star, 25));
            if (star) s.star_fields |= 1;
        } else {
            s.seconds = 1;  // second 0
        }
        {
            bool star = false;
            parts.push_back(numeric_field(0, 59, nullptr, s.minutes, star, 20));
            if (star) s.star_fields |= 2;
        }
        {
            bool star = false;
            std::uint64_t bits = 0;
            parts.push_back(numeric_field(0, 23, nullptr, bits, star, 30));
            s.hours = static_cast<std::uint32_t>(bits);
            if (star) s.star_fields |= 4;
        }
        // Day of month and day of week; at most one '?'.
        const bool q_dom = chance(8);
        const bool q_dow = !q_dom && chance(8);
        parts.push_back(dom_field(g, q_dom));
        {
            bool star = false;
            std::uint64_t bits = 0;
            parts.push_back(numeric_field(1, 12, kMonths.data(), bits, star, 55));
            s.months = static_cast<std::uint16_t>(bits);
        }
        parts.push_back(dow_field(g, q_dow));
        if (g.fields == 7) parts.push_back(year_field(s));
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (i) g.text += chance(10) ? "  " : " ";
            g.text += parts[i];
        }
        return g;
    }

    static constexpr std::array<const char*, 13> kMonths{"",    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    static constexpr std::array<const char*, 7> kDays{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

private:
    std::string mixcase(const char* name) {
        std::string out(name);
        const int style = uniform(0, 3);
        for (auto& c : out) {
            if (style == 1) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (style == 2 && &c != &out[0]) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (style == 3 && chance(50)) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return out;
    }

    std::string value_text(int v, const char* const* names, bool use_name) {
        if (names && use_name) return mixcase(names[v]);
        return std::to_string(v);
    }

    // A field of numbers, ranges and steps over [lo, hi] (names optional).
    // star_percent: how often the whole field is '*'.
    std::string numeric_field(int lo, int hi, const char* const* names, std::uint64_t& bits, bool& star,
                              int star_percent) {
        bits = 0;
        star = false;
        if (chance(star_percent)) {
            star = true;
            for (int v = lo; v <= hi; ++v) bits |= std::uint64_t{1} << v;
            return "*";
        }
        std::string out;
        const int items = uniform(1, 100) <= 60 ? 1 : uniform(2, 4);
        for (int i = 0; i < items; ++i) {
            if (i) out += ',';
            const bool use_name = names && chance(50);
            int kind = uniform(0, 9);
            if (i == 0 && chance(12)) kind = 10;  // "*/s"
            if (kind <= 3) {                      // single value
                const int v = uniform(lo, hi);
                bits |= std::uint64_t{1} << v;
                out += value_text(v, names, use_name);
            } else if (kind <= 6) {  // range
                int a = uniform(lo, hi), b = uniform(lo, hi);
                if (a > b) std::swap(a, b);
                for (int v = a; v <= b; ++v) bits |= std::uint64_t{1} << v;
                out += value_text(a, names, use_name) + "-" + value_text(b, names, use_name);
            } else if (kind <= 8) {  // range with step
                int a = uniform(lo, hi), b = uniform(lo, hi);
                if (a > b) std::swap(a, b);
                const int step = uniform(1, std::max(1, hi - lo));
                for (int v = a; v <= b; v += step) bits |= std::uint64_t{1} << v;
                out +=
                    value_text(a, names, use_name) + "-" + value_text(b, names, use_name) + "/" + std::to_string(step);
            } else if (kind == 9) {  // start with step: a/s = a-hi/s
                const int a = uniform(lo, hi);
                const int step = uniform(1, std::max(1, hi - lo));
                for (int v = a; v <= hi; v += step) bits |= std::uint64_t{1} << v;
                out += value_text(a, names, use_name) + "/" + std::to_string(step);
            } else {  // */s
                star = true;
                const int step = uniform(1, std::max(1, hi - lo));
                for (int v = lo; v <= hi; v += step) bits |= std::uint64_t{1} << v;
                out += "*/" + std::to_string(step);
            }
        }
        return out;
    }

    std::string dom_field(Generated& g, bool question) {
        Spec& s = g.expected;
        if (question) {
            s.days_of_month = 0xFFFFFFFEu;
            s.dom_any = true;
            return "?";
        }
        if (chance(20)) {  // Quartz specials, alone in the field
            s.dom_any = false;
            s.days_of_month = 0;
            switch (uniform(0, 3)) {
                case 0: s.last_day_offset = 0; return "L";
                case 1: {
                    const int n = chance(70) ? uniform(1, 5) : uniform(6, 30);
                    s.last_day_offset = static_cast<std::int8_t>(n);
                    return "L-" + std::to_string(n);
                }
                case 2: {
                    const int n = chance(30) ? (chance(50) ? 1 : uniform(28, 31)) : uniform(1, 31);
                    s.nearest_weekday = std::uint32_t{1} << n;
                    return std::to_string(n) + "W";
                }
                default: s.last_business_day = true; return "LW";
            }
        }
        std::uint64_t bits = 0;
        bool star = false;
        const std::string text = numeric_field(1, 31, nullptr, bits, star, 45);
        s.days_of_month = static_cast<std::uint32_t>(bits);
        s.dom_any = text == "*";
        if (!s.dom_any && text[0] == '*') g.check_dom_any = false;
        return text;
    }

    std::string dow_field(Generated& g, bool question) {
        Spec& s = g.expected;
        if (question) {
            s.days_of_week = 0x7F;
            s.dow_any = true;
            return "?";
        }
        if (chance(55)) {
            s.days_of_week = 0x7F;
            s.dow_any = true;
            return "*";
        }
        s.dow_any = false;
        if (chance(20)) {  // "wL" or "w#n", alone in the field
            const int w = uniform(0, 7);
            const auto wi = static_cast<std::size_t>(w % 7);
            if (chance(40)) {
                s.last_weekday_of = static_cast<std::uint8_t>(1u << wi);
                return std::to_string(w) + "L";
            }
            const int n = uniform(1, 5);
            s.nth_weekday[wi] = static_cast<std::uint8_t>(1u << n);
            const std::string day = (w < 7 && chance(50)) ? mixcase(kDays[wi]) : std::to_string(w);
            return day + "#" + std::to_string(n);
        }
        std::string out;
        std::uint32_t bits = 0;
        auto set = [&](int v) { bits |= 1u << (v % 7); };
        const int items = chance(60) ? 1 : uniform(2, 3);
        for (int i = 0; i < items; ++i) {
            if (i) out += ',';
            const int kind = uniform(0, 9);
            if (i == 0 && kind == 9) {  // */s (0,s,2s.. the same over 0-6 and 0-7)
                const int step = uniform(1, 6);
                for (int v = 0; v <= 6; v += step) set(v);
                out += "*/" + std::to_string(step);
                g.check_dow_any = false;
            } else if (kind <= 4) {
                if (chance(50)) {
                    const int v = uniform(0, 6);
                    set(v);
                    out += mixcase(kDays[static_cast<std::size_t>(v)]);
                } else {
                    const int v = uniform(0, 7);
                    set(v);
                    out += std::to_string(v);
                }
            } else {
                const bool names = chance(50);
                int a = uniform(0, names ? 6 : 7), b = uniform(0, names ? 6 : 7);
                if (a > b) std::swap(a, b);
                const int step = chance(30) ? uniform(1, 4) : 1;
                for (int v = a; v <= b; v += step) set(v);
                out += names ? mixcase(kDays[static_cast<std::size_t>(a)]) + "-" +
                                   mixcase(kDays[static_cast<std::size_t>(b)])
                             : std::to_string(a) + "-" + std::to_string(b);
                if (step != 1 || chance(10)) {
                    out += '/';
                    out += std::to_string(step);
                }
            }
        }
        s.days_of_week = static_cast<std::uint8_t>(bits);
        return out;
    }

    std::string year_field(Spec& s) {
        if (chance(35)) {
            s.years_any = true;
            return "*";
        }
        s.years_any = false;
        auto set = [&](int y) {
            const int b = y - txflow::cron::kMinYear;
            s.years[static_cast<std::size_t>(b / 64)] |= std::uint64_t{1} << (b % 64);
        };
        std::string out;
        const int items = chance(70) ? 1 : 2;
        for (int i = 0; i < items; ++i) {
            if (i) out += ',';
            const int kind = uniform(0, 3);
            if (kind == 0) {
                const int y = uniform(2024, 2099);
                set(y);
                out += std::to_string(y);
            } else if (kind == 1) {
                int a = uniform(2024, 2099), b = uniform(2024, 2099);
                if (a > b) std::swap(a, b);
                for (int y = a; y <= b; ++y) set(y);
                out += std::to_string(a) + "-" + std::to_string(b);
            } else if (kind == 2) {
                const int a = uniform(2020, 2060), step = uniform(1, 5);
                for (int y = a; y <= txflow::cron::kMaxYear; y += step) set(y);
                out += std::to_string(a) + "/" + std::to_string(step);
            } else {
                const int a = uniform(1970, 2030), b = uniform(2040, 2099);
                for (int y = a; y <= b; ++y) set(y);
                out += std::to_string(a) + "-" + std::to_string(b);
            }
        }
        return out;
    }

    std::mt19937 rng_;
};

}  // namespace txflow::cron_gen
