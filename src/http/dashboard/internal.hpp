#pragma once
// What the dashboard's files share: the Impl, JSON responses and errors, and
// the handlers each file defines (one concern per file).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/http/dashboard.hpp"

namespace txflow::http {

struct Dashboard::Impl {
    Scheduler& scheduler;
    std::shared_ptr<RunHistory> history;
    DashboardOptions options;
    std::string csrf;
};

namespace dash {

using nlohmann::json;

[[nodiscard]] Response json_response(const json& body, int status = 200);
[[nodiscard]] Response error(int status, std::string_view message);
[[nodiscard]] std::int64_t epoch_ms(WallTime t);
[[nodiscard]] json time_json(const std::optional<WallTime>& t);  // epoch ms or null
// The path's segments after /api/v1/ ("/api/v1/jobs/x/pause" -> jobs, x, pause), percent-decoded.
[[nodiscard]] std::vector<std::string> api_segments(std::string_view path);
// ?name= as a bounded number; nullopt when absent; throws BadRequest when malformed.
[[nodiscard]] std::optional<std::size_t> size_param(const Request& r, const std::string& name, std::size_t max);
[[nodiscard]] std::string text_param(const Request& r, const std::string& name);

struct BadRequest {
    int status;
    std::string message;
};

// auth.cpp
[[nodiscard]] std::optional<Response> refuse_unauthenticated(const Dashboard::Impl& d, const Request& r);
[[nodiscard]] std::optional<Response> refuse_action(const Dashboard::Impl& d, const Request& r);
[[nodiscard]] std::string random_token();
[[nodiscard]] Response session(const Dashboard::Impl& d);

// api_jobs.cpp
[[nodiscard]] Response jobs(const Dashboard::Impl& d, const Request& r);
[[nodiscard]] Response job(const Dashboard::Impl& d, const std::string& name);
[[nodiscard]] Response overview(const Dashboard::Impl& d);
// api_runs.cpp
[[nodiscard]] json run_json(const RunRecord& run);
[[nodiscard]] Response runs(const Dashboard::Impl& d, const Request& r);
// api_sagas.cpp
[[nodiscard]] Response sagas(const Dashboard::Impl& d, const Request& r);
[[nodiscard]] Response saga(const Dashboard::Impl& d, const std::string& id);
// api_transactions.cpp
[[nodiscard]] Response transactions(const Dashboard::Impl& d, const Request& r);
[[nodiscard]] Response transaction(const Dashboard::Impl& d, const std::string& id);
// api_cluster.cpp
[[nodiscard]] Response cluster(const Dashboard::Impl& d);
// api_state.cpp
[[nodiscard]] Response queues(const Dashboard::Impl& d);
[[nodiscard]] Response breakers(const Dashboard::Impl& d);
[[nodiscard]] Response dead_letters(const Dashboard::Impl& d);
// actions.cpp
[[nodiscard]] Response action(Dashboard::Impl& d, const std::vector<std::string>& segments, const Request& r);
// assets.cpp
[[nodiscard]] Response asset(const Dashboard::Impl& d, const Request& r);

}  // namespace dash
}  // namespace txflow::http
