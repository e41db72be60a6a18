#pragma once
// What the daemon tests share: log lines captured in memory, a daemon on a
// schedule text with a memory store, and a bounded wait for what real
// commands do.
#include <catch2/catch.hpp>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/daemon/daemon.hpp"
#include "txflow/store/memory_store.hpp"

namespace txflow::test::daemon {

using namespace std::chrono_literals;
using txflow::daemon::Daemon;
using txflow::daemon::DaemonOptions;
using txflow::daemon::LogFormat;

// A sink that keeps what it is given; reads take the sink's own lock, which
// the loggers' writes hold (workers log while the test reads).
class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    std::string text() {
        const std::lock_guard lock(mutex_);
        return text_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        text_.append(formatted.data(), formatted.size());
    }
    void flush_() override {}

private:
    std::string text_;
};

// Log lines captured in memory.
struct Log {
    std::shared_ptr<CaptureSink> sink = std::make_shared<CaptureSink>();
    std::shared_ptr<spdlog::logger> logger;

    explicit Log(LogFormat format) { logger = txflow::daemon::make_logger(format, "debug", sink); }
    std::vector<std::string> lines() {
        const std::string text = sink->text();
        std::vector<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }
    bool contains(const std::string& needle) {
        const auto all = lines();
        return std::any_of(all.begin(), all.end(),
                           [&](const std::string& l) { return l.find(needle) != std::string::npos; });
    }
};

// The daemon runs real commands: up to 5 s, polled every 10 ms (each poll reads the whole log).
template <class Pred>
bool eventually(Pred pred) {
    return txflow::test::eventually(pred, 5s, 10ms);
}

// tracer: optional, for the tests of a run's spans and TRACEPARENT.
inline std::unique_ptr<Daemon> make_daemon(const std::string& text, Log& log,
                                           std::shared_ptr<txflow::observe::Tracer> tracer = nullptr) {
    auto file = txflow::schedule_file::parse_text(text, "/tmp");
    if (!file) {
        for (const auto& p : file.error()) FAIL(p.to_string());
    }
    DaemonOptions options;
    options.logger = log.logger;
    options.store = std::make_shared<txflow::store::MemoryStore>();
    options.kill_grace = 200ms;
    options.tracer = std::move(tracer);
    auto d = Daemon::create(std::move(*file), options);
    REQUIRE(d);
    return std::move(*d);
}

}  // namespace txflow::test::daemon
