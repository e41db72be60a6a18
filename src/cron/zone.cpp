#include "txflow/cron/zone.hpp"

#include <date/tz.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>

#include "posix_rule.hpp"

namespace txflow::cron {

using std::chrono::seconds;
using std::chrono::sys_seconds;

struct Zone::PosixRule {
    std::unique_ptr<detail::PosixRule> rule;
};

Zone::Zone(std::string name, const date::time_zone* tz) : name_(std::move(name)), tz_(tz) {
    load_rule();
    build_table();
}

void Zone::load_rule() {
    if (tz_ == nullptr) return;
    // The database's final span runs to the end of time; from its start on,
    // the footer's rule says when DST begins and ends.
    const auto last = tz_->get_info(sys_seconds{seconds{253402300799}});  // 9999-12-31T23:59:59Z
    if (last.end < sys_seconds{seconds{253402300800}}) return;
    auto footer = detail::PosixRule::parse(detail::read_tzif_footer(name_));
    if (!footer) return;
    rule_from_ = last.begin;
    rule_ = std::make_unique<PosixRule>(PosixRule{std::move(footer)});
}

void Zone::build_table() {
    if (tz_ == nullptr) return;
    constexpr sys_seconds kTableBegin{seconds{-2'208'988'800}};  // 1900-01-01
    constexpr sys_seconds kTableEnd{seconds{7'258'118'400}};     // 2200-01-01
    for (sys_seconds t = kTableBegin; t < kTableEnd;) {
        const OffsetSpan span = span_from_database(t);
        if (!table_.empty() && table_.back().offset == span.offset) table_.back().end = span.end;
        else table_.push_back(span);
        t = span.end;
    }
}

Zone::~Zone() = default;

const Zone& Zone::utc() {
    static const Zone zone{"UTC", nullptr};
    return zone;
}

const Zone* Zone::find(std::string_view name) {
    if (name == "UTC" || name == "Etc/UTC") return &utc();
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<Zone>, std::less<>> zones;
    const std::lock_guard lock(mutex);
    if (auto it = zones.find(name); it != zones.end()) return it->second.get();
    const date::time_zone* tz = nullptr;
    try {
        tz = date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
    auto [it, inserted] = zones.emplace(std::string(name), std::unique_ptr<Zone>(new Zone(std::string(name), tz)));
    return it->second.get();
}

OffsetSpan Zone::span_at(sys_seconds t) const {
    if (tz_ == nullptr) return {kFarPast, kFarFuture, seconds{0}};
    if (!table_.empty() && t >= table_.front().begin && t < table_.back().end) {
        const auto it = std::upper_bound(table_.begin(), table_.end(), t,
                                         [](sys_seconds v, const OffsetSpan& s) { return v < s.begin; });
        return *std::prev(it);
    }
    return span_from_database(t);
}

OffsetSpan Zone::span_from_database(sys_seconds t) const {
    if (t >= rule_from_) {
        const auto s = rule_->rule->span_at(t.time_since_epoch().count());
        return {std::max(sys_seconds{seconds{s.begin}}, rule_from_), sys_seconds{seconds{s.end}}, seconds{s.offset}};
    }
    const auto info = tz_->get_info(t);
    return {info.begin, info.end, info.offset};
}

}  // namespace txflow::cron
