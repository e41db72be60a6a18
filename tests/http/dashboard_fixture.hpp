#pragma once
// A real scheduler (real clocks) with a few jobs, a saga that fails and
// compensates, and a dead letter, served by a Dashboard on 127.0.0.1:0.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "support/test_support.hpp"
#include "txflow/http/dashboard.hpp"
#include "txflow/scheduler.hpp"

namespace txflow::test {

struct DashboardServer {
    std::shared_ptr<http::RunHistory> history = std::make_shared<http::RunHistory>(20);
    Scheduler sched{SchedulerOptions{}.workers(2).logger(quiet_logger("dash")).listener(history).queue("io", 1)};
    std::unique_ptr<http::Server> server;
    std::unique_ptr<http::Dashboard> dashboard;

    explicit DashboardServer(http::DashboardOptions options = {}, std::size_t filler_jobs = 0) {
        using namespace std::chrono_literals;
        sched.job("alpha").cron("0 30 2 * * *").in_zone("Europe/Berlin").run([](JobContext&) {});
        sched.job("beta").every(1h).queue("io").run([](JobContext&) {});
        sched.job("boom").every(1h).retry(retry::fixed(1ms).attempts(1)).run([](JobContext&) {
            throw std::runtime_error("disk full");
        });
        for (std::size_t i = 0; i < filler_jobs; ++i)
            sched.job("filler-" + std::to_string(i)).every(1h).run([](JobContext&) {});
        http::ServerOptions listen;
        listen.port = 0;
        server = std::make_unique<http::Server>(listen);
        dashboard = std::make_unique<http::Dashboard>(sched, history, options);
        dashboard->mount(*server);
        if (!server->start()) throw std::runtime_error("cannot start the dashboard server");
        sched.start();
    }
    ~DashboardServer() {
        server->stop();
        (void)sched.stop(std::chrono::seconds(1));
    }

    [[nodiscard]] httplib::Client client() const {
        httplib::Client c("127.0.0.1", server->port());
        c.set_connection_timeout(5);
        c.set_read_timeout(5);
        return c;
    }
    [[nodiscard]] httplib::Headers csrf() const { return {{"X-CSRF-Token", dashboard->csrf_token()}}; }

    // Runs a saga whose last step fails, so the first two are compensated; returns its id.
    std::string compensated_saga() {
        auto saga = Saga("order")
                        .step(
                            "reserve", [](saga::StepContext&) {}, [](saga::StepContext&) {})
                        .step(
                            "charge", [](saga::StepContext&) {}, [](saga::StepContext&) {})
                        .step(
                            "ship", [](saga::StepContext&) { throw std::runtime_error("no courier"); },
                            [](saga::StepContext&) {})
                        .build();
        const SagaHandle handle = sched.start_saga(saga, nlohmann::json::object(), "order-1");
        const auto info = handle.wait(std::chrono::seconds(10));
        if (!info || info->state != saga::State::compensated) throw std::runtime_error("the saga did not compensate");
        return handle.id();
    }
};

inline nlohmann::json body_of(const httplib::Result& r) {
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
}

}  // namespace txflow::test
