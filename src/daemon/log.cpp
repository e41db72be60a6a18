// The daemon's log formats: human text or one JSON object per line.

#include "log.hpp"
#include "log_subject.hpp"

#include <date/date.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "txflow/daemon/daemon.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow::daemon {
namespace detail {
namespace {

thread_local const LogFields* current_fields = nullptr;

void append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
}

std::string timestamp(std::chrono::system_clock::time_point t) {
    return date::format("%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(t));
}

std::string_view level_name(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace: return "trace";
        case spdlog::level::debug: return "debug";
        case spdlog::level::info: return "info";
        case spdlog::level::warn: return "warn";
        case spdlog::level::err: return "error";
        case spdlog::level::critical: return "critical";
        default: return "off";
    }
}

// A JSON string literal; invalid UTF-8 (a command's binary output) is
// replaced rather than refused.
void append_json_string(spdlog::memory_buf_t& dest, std::string_view s) {
    append(dest, nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// "2026-03-07T12:00:00.123Z info  [backup] stdout: copied 3 files"
class TextFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        append(dest, timestamp(msg.time));
        append(dest, fmt::format(" {:<5} ", level_name(msg.level)));
        if (const LogFields* f = current_fields) {
            dest.push_back('[');
            if (!f->job.empty()) {
                append(dest, f->job);
            } else {
                append(dest, f->saga_id);
                if (!f->step.empty()) {
                    dest.push_back('/');
                    append(dest, f->step);
                }
                if (f->compensating) append(dest, "/compensate");
            }
            append(dest, "] ");
            if (!f->stream.empty()) {
                append(dest, f->stream);
                append(dest, ": ");
            }
        }
        append(dest, std::string_view(msg.payload.data(), msg.payload.size()));
        dest.push_back('\n');
    }
    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<TextFormatter>();
    }
};

// {"time":"2026-03-07T12:00:00.123Z","level":"info","msg":"copied 3 files","job":"backup","stream":"stdout"}
// Empty fields are left out.
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        append(dest, R"({"time":")");
        append(dest, timestamp(msg.time));
        append(dest, R"(","level":")");
        append(dest, level_name(msg.level));
        append(dest, R"(","msg":)");
        const std::string_view message(msg.payload.data(), msg.payload.size());
        append_json_string(dest, message);
        // Lines the scheduler and the saga engine log name their subject only in the text.
        const LogFields from_message = current_fields != nullptr ? LogFields{} : fields_in_message(message);
        const LogFields& f = current_fields != nullptr ? *current_fields : from_message;
        const auto field = [&](std::string_view key, std::string_view value) {
            if (value.empty()) return;
            append(dest, ",\"");
            append(dest, key);
            append(dest, "\":");
            append_json_string(dest, value);
        };
        field("job", f.job);
        field("saga", f.saga);
        field("saga_id", f.saga_id);
        field("step", f.step);
        if (f.compensating) append(dest, R"(,"compensating":true)");
        field("stream", f.stream);
        if (const observe::TraceContext* t = observe::current_trace()) {  // inside a traced run
            field("trace_id", t->trace_id_hex());
            field("span_id", t->span_id_hex());
        }
        append(dest, "}\n");
    }
    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

}  // namespace

void log_with(spdlog::logger& logger, spdlog::level::level_enum level, const LogFields& fields,
              std::string_view message) {
    if (!logger.should_log(level)) return;
    const LogFields* saved = std::exchange(current_fields, &fields);
    try {
        logger.log(level, spdlog::string_view_t(message.data(), message.size()));
    } catch (...) {
        current_fields = saved;
        throw;
    }
    current_fields = saved;
}

}  // namespace detail

std::shared_ptr<spdlog::logger> make_logger(LogFormat format, std::string_view level,
                                            std::shared_ptr<spdlog::sinks::sink> sink) {
    if (!sink) sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    if (format == LogFormat::json) sink->set_formatter(std::make_unique<detail::JsonFormatter>());
    else sink->set_formatter(std::make_unique<detail::TextFormatter>());
    auto logger = std::make_shared<spdlog::logger>("txflow", std::move(sink));
    logger->set_level(spdlog::level::from_str(std::string(level)));  // "warn" and "error" too
    logger->flush_on(spdlog::level::trace);
    return logger;
}

}  // namespace txflow::daemon
