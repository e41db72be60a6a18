// Built as C++17: see posix_rule.hpp.
#include "posix_rule.hpp"

#include <date/ptz.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace txflow::cron::detail {
namespace {

class PtzRule final : public PosixRule {
public:
    explicit PtzRule(Posix::time_zone tz) : tz_(std::move(tz)) {}
    PosixSpan span_at(long long sys_seconds) const override {
        using std::chrono::seconds;
        const auto info = tz_.get_info(date::sys_seconds{seconds{sys_seconds}});
        return {info.begin.time_since_epoch().count(), info.end.time_since_epoch().count(), info.offset.count()};
    }

private:
    Posix::time_zone tz_;
};

}  // namespace

std::unique_ptr<PosixRule> PosixRule::parse(const std::string& rule) {
    try {
        return std::make_unique<PtzRule>(Posix::time_zone{rule});
    } catch (const std::exception&) {
        return nullptr;
    }
}

std::string read_tzif_footer(const std::string& zone_name) {
    const char* dir = std::getenv("TZDIR");
    const std::string path =
        std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" + zone_name;
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // TZif version 2+ ends with "\n<POSIX rule>\n".
    if (bytes.size() < 6 || bytes.compare(0, 4, "TZif") != 0 || bytes[4] < '2') return {};
    if (bytes.back() != '\n') return {};
    const std::size_t start = bytes.rfind('\n', bytes.size() - 2);
    if (start == std::string::npos) return {};
    return bytes.substr(start + 1, bytes.size() - start - 2);
}

}  // namespace txflow::cron::detail
