// GET /api/v1/jobs (paged, filtered, sorted), /api/v1/jobs/{name} and
// /api/v1/overview.

#include <algorithm>
#include <cctype>

#include "internal.hpp"
#include "txflow/cron/schedule.hpp"

namespace txflow::http::dash {
namespace {

constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 1000;

bool is_cron(const std::string& schedule) {
    return !(schedule.starts_with("every ") || schedule.starts_with("after ") || schedule.starts_with("at "));
}

// The description (plain English for cron, in the job's own zone) and the
// next `count` fires, both from the scheduler's view of the job's real trigger.
void describe_schedule(const Dashboard::Impl& d, const JobInfo& info, std::size_t count, json& out) {
    out["zone"] = info.zone.empty() ? json(nullptr) : json(info.zone);
    std::string description = info.schedule;
    if (is_cron(info.schedule)) {
        if (auto parsed = cron::parse(info.schedule)) {
            const cron::Zone* zone = cron::Zone::find(info.zone.empty() ? std::string_view("UTC") : info.zone);
            description = cron::describe(zone != nullptr ? parsed->in_zone(*zone) : *parsed);
        }
    }
    json fires = json::array();
    for (const WallTime at : d.scheduler.next_fires(info.name, count)) fires.push_back(epoch_ms(at));
    out["description"] = description;
    out["next_fires"] = std::move(fires);
}

json job_json(const Dashboard::Impl& d, const JobInfo& info, std::size_t fires) {
    json out{{"name", info.name},
             {"schedule", info.schedule},
             {"next_fire", info.paused ? json(nullptr) : time_json(info.next_fire)},
             {"last_outcome", to_string(info.last_outcome)},
             {"last_error", info.last_error},
             {"run_count", info.run_count},
             {"attempt_count", info.attempt_count},
             {"skip_count", info.skip_count},
             {"misfire_count", info.misfire_count},
             {"paused", info.paused},
             {"running", info.running}};
    const auto last = d.history->runs(info.name, 1);
    out["last_duration_ms"] = last.empty() ? json(nullptr) : json(last.front().duration.count());
    describe_schedule(d, info, fires, out);
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

using Less = bool (*)(const JobInfo&, const JobInfo&);

Less comparator(const std::string& sort) {
    if (sort.empty() || sort == "name") return [](const JobInfo& a, const JobInfo& b) { return a.name < b.name; };
    if (sort == "next_fire")
        return [](const JobInfo& a, const JobInfo& b) {
            const auto key = [](const JobInfo& j) { return j.next_fire.value_or(WallTime::max()); };
            return key(a) != key(b) ? key(a) < key(b) : a.name < b.name;
        };
    if (sort == "run_count")
        return [](const JobInfo& a, const JobInfo& b) {
            return a.run_count != b.run_count ? a.run_count < b.run_count : a.name < b.name;
        };
    if (sort == "last_outcome")
        return [](const JobInfo& a, const JobInfo& b) {
            return a.last_outcome != b.last_outcome ? a.last_outcome < b.last_outcome : a.name < b.name;
        };
    throw BadRequest{400, "?sort=" + sort + ": expected name, next_fire, run_count or last_outcome"};
}

}  // namespace

Response jobs(const Dashboard::Impl& d, const Request& r) {
    const std::size_t offset = size_param(r, "offset", 100'000'000).value_or(0);
    const std::size_t limit = size_param(r, "limit", kMaxLimit).value_or(kDefaultLimit);
    const Less less = comparator(text_param(r, "sort"));
    const std::string order = text_param(r, "order");
    if (!order.empty() && order != "asc" && order != "desc")
        throw BadRequest{400, "?order=" + order + ": expected asc or desc"};
    const std::string q = lower(text_param(r, "q"));

    std::vector<JobInfo> all = d.scheduler.jobs();
    if (!q.empty()) std::erase_if(all, [&](const JobInfo& j) { return lower(j.name).find(q) == std::string::npos; });
    const std::size_t total = all.size();
    const std::size_t begin = std::min(offset, total);
    const std::size_t end = std::min(total, begin + limit);
    // Only the page is sorted into place: partial_sort of the first `end`.
    const auto cmp = [&](const JobInfo& a, const JobInfo& b) { return order == "desc" ? less(b, a) : less(a, b); };
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(end), all.end(), cmp);
    json items = json::array();
    for (std::size_t i = begin; i < end; ++i) items.push_back(job_json(d, all[i], 5));
    return json_response(json{{"total", total}, {"offset", offset}, {"limit", limit}, {"jobs", std::move(items)}});
}

Response job(const Dashboard::Impl& d, const std::string& name) {
    auto handle = d.scheduler.find(name);
    std::optional<JobInfo> info = handle ? handle->info() : std::nullopt;
    if (!info) return error(404, "no job named '" + name + "'");
    json out = job_json(d, *info, 5);
    json runs = json::array();
    for (const RunRecord& run : d.history->runs(name)) runs.push_back(run_json(run));
    out["runs"] = std::move(runs);
    return json_response(out);
}

Response overview(const Dashboard::Impl& d) {
    const std::vector<JobInfo> all = d.scheduler.jobs();
    std::size_t paused = 0;
    std::size_t running = 0;
    for (const JobInfo& j : all) {
        paused += j.paused ? 1 : 0;
        running += j.running ? 1 : 0;
    }
    json minutes = json::array();
    std::uint64_t finished = 0;
    std::uint64_t failed = 0;
    for (const MinuteCounts& m : d.history->last_hour()) {
        minutes.push_back({{"minute", m.minute * 60'000}, {"finished", m.finished}, {"failed", m.failed}});
        finished += m.finished;
        failed += m.failed;
    }
    // Runs per minute: the last complete minute (the current one is still filling).
    const json& last_full = minutes.at(minutes.size() - 2);
    json queues = json::array();
    for (const QueueStats& q : d.scheduler.queue_stats())
        queues.push_back({{"name", q.name}, {"queued", q.queued}, {"running", q.running}});
    json saga_states = json::object();
    for (const saga::Info& s : d.scheduler.sagas()) {
        const std::string state(saga::to_string(s.state));
        saga_states[state] = saga_states.value(state, 0) + 1;
    }
    return json_response(json{{"jobs", all.size()},
                              {"paused", paused},
                              {"running", running},
                              {"runs_per_minute", last_full["finished"]},
                              {"runs_last_hour", finished},
                              {"failures_last_hour", failed},
                              {"dead_letters", d.scheduler.dead_letters().size()},
                              {"queues", std::move(queues)},
                              {"sagas", std::move(saga_states)},
                              {"read_only", d.options.read_only},
                              {"last_hour", std::move(minutes)}});
}

}  // namespace txflow::http::dash
