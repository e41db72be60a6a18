#pragma once
// Scaffolding the tests share: a logger that drops everything, RFC 3339 time
// helpers, a scratch directory, and polling for a condition. Listeners that
// record events and runs are in recorders.hpp, the saga ledger in ledger.hpp.
//
// Namespace txflow::test, not txflow::test: store/wal_test_util.hpp
// has its own txflow::test::TempDir, and both end up in one executable.

#include <catch2/catch.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "txflow/core/clock.hpp"
#include "txflow/testing/temp_dir.hpp"
#include "txflow/testing/time.hpp"

namespace txflow::test {

// Tests check behaviour through events and results, not log lines.
inline std::shared_ptr<spdlog::logger> quiet_logger(std::string name = "test") {
    return std::make_shared<spdlog::logger>(std::move(name), std::make_shared<spdlog::sinks::null_sink_mt>());
}

// "2026-01-01T00:00:00Z" as a wall time (the text must be valid RFC 3339).
inline WallTime wall(std::string_view rfc3339) {
    return testing::wall_time(rfc3339);
}

// A wall time as UTC text: "2026-01-01T00:00:00Z" (".250" when it has milliseconds).
inline std::string iso(WallTime t) {
    return testing::utc_text(t);
}

using testing::TempDir;

// A gate that jobs wait at, held shut until a test opens it (or goes out of
// scope). Jobs capture `opened` by value; declare the Gate after the
// scheduler, so that on an early exit it opens before the scheduler's
// destructor waits for those jobs.
struct Gate {
    std::promise<void> promise;
    std::shared_future<void> opened = promise.get_future().share();
    bool is_open = false;
    void open() {
        if (!is_open) promise.set_value();
        is_open = true;
    }
    Gate() = default;
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;
    ~Gate() { open(); }
};

// Polls `pred` every `poll` until it holds (true) or `timeout` has passed (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds{10},
                std::chrono::milliseconds poll = std::chrono::milliseconds{1}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(poll);
    }
    return true;
}

}  // namespace txflow::test
