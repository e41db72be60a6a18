#pragma once
// The POSIX TZ rule of a TZif footer ("EST5EDT,M3.2.0,M11.1.0"), evaluated by
// date's <date/ptz.h>. That header does not compile as C++20 (its
// hh_mm_ss clashes with std::chrono's), so posix_rule.cpp is built as C++17
// and this interface uses no chrono types.

#include <memory>
#include <string>

namespace txflow::cron::detail {

struct PosixSpan {
    long long begin;  // seconds since the epoch
    long long end;
    long long offset;  // seconds east of UTC
};

class PosixRule {
public:
    // nullptr when the text is not a rule ptz understands.
    static std::unique_ptr<PosixRule> parse(const std::string& rule);
    virtual ~PosixRule() = default;
    virtual PosixSpan span_at(long long sys_seconds) const = 0;
};

// The footer rule of the TZif file for `zone_name`, or "" when there is none.
std::string read_tzif_footer(const std::string& zone_name);

}  // namespace txflow::cron::detail
