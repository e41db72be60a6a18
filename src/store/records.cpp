#include "txflow/store/records.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/live_state.hpp"

namespace txflow::store {

std::string_view to_string(RecordType type) {
    switch (type) {
        case RecordType::saga_created: return "saga_created";
        case RecordType::saga_state: return "saga_state";
        case RecordType::step_state: return "step_state";
        case RecordType::step_attempt: return "step_attempt";
        case RecordType::saga_data: return "saga_data";
        case RecordType::saga_removed: return "saga_removed";
        case RecordType::job_fired: return "job_fired";
        case RecordType::retry_armed: return "retry_armed";
        case RecordType::retry_done: return "retry_done";
        case RecordType::dead_letter: return "dead_letter";
        case RecordType::dead_letter_removed: return "dead_letter_removed";
    }
    return "unknown";
}

namespace {

using nlohmann::json;

// Data is JSON text written by txflow; show it as JSON when it parses.
json data_value(const std::string& text) {
    auto parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? json(text) : parsed;
}

template <class R, class Fill>
bool describe(std::string_view payload, json& out, Fill&& fill) {
    R r;
    if (!decode(payload, r)) return false;
    fill(r, out);
    return true;
}

bool describe_payload(RecordType type, std::string_view p, json& o) {
    switch (type) {
        case RecordType::saga_created:
            return describe<SagaCreated>(p, o, [](const SagaCreated& r, json& j) {
                j["saga"] = r.id;
                j["definition"] = r.definition;
                j["steps"] = r.steps;
                j["data"] = data_value(r.data);
                j["at_ms"] = r.at_ms;
            });
        case RecordType::saga_state:
            return describe<SagaStateChange>(p, o, [](const SagaStateChange& r, json& j) {
                j["saga"] = r.id;
                j["to"] = saga::to_string(r.to);
                if (!r.error.empty()) j["error"] = r.error;
                j["at_ms"] = r.at_ms;
            });
        case RecordType::step_state:
            return describe<StepStateChange>(p, o, [](const StepStateChange& r, json& j) {
                j["saga"] = r.id;
                j["step"] = r.step;
                j["to"] = saga::to_string(r.to);
                if (!r.error.empty()) j["error"] = r.error;
                if (r.data) j["data"] = data_value(*r.data);
                j["duration_ns"] = r.duration_ns;
                j["at_ms"] = r.at_ms;
            });
        case RecordType::step_attempt:
            return describe<StepAttempt>(p, o, [](const StepAttempt& r, json& j) {
                j["saga"] = r.id;
                j["step"] = r.step;
                j["compensation"] = r.compensation;
                j["attempt"] = r.attempt;
                if (!r.error.empty()) j["error"] = r.error;
                j["at_ms"] = r.at_ms;
            });
        case RecordType::saga_removed:
            return describe<SagaRemoved>(p, o, [](const SagaRemoved& r, json& j) { j["saga"] = r.id; });
        case RecordType::saga_data:
            return describe<SagaData>(p, o, [](const SagaData& r, json& j) {
                j["saga"] = r.id;
                j["data"] = data_value(r.data);
            });
        case RecordType::job_fired:
            return describe<JobFired>(p, o, [](const JobFired& r, json& j) {
                j["job"] = r.job;
                j["fire_ms"] = r.fire_ms;
            });
        case RecordType::retry_armed:
            return describe<RetryArmed>(p, o, [](const RetryArmed& r, json& j) {
                j["retry"] = r.retry;
                j["job"] = r.job;
                j["fire_ms"] = r.fire_ms;
                j["attempt"] = r.attempt;
                j["due_ms"] = r.due_ms;
            });
        case RecordType::retry_done:
            return describe<RetryDone>(p, o, [](const RetryDone& r, json& j) { j["retry"] = r.retry; });
        case RecordType::dead_letter:
            return describe<DeadLetterAdded>(p, o, [](const DeadLetterAdded& r, json& j) {
                j["dead_letter"] = r.id;
                j["job"] = r.job;
                j["fire_ms"] = r.fire_ms;
                j["attempts"] = r.attempts;
                j["error"] = r.error;
                j["failed_ms"] = r.failed_ms;
            });
        case RecordType::dead_letter_removed:
            return describe<DeadLetterRemoved>(p, o,
                                               [](const DeadLetterRemoved& r, json& j) { j["dead_letter"] = r.id; });
    }
    return false;
}

}  // namespace

std::string record_to_json(const Record& record) {
    json out;
    out["seq"] = record.seq;
    const auto type = static_cast<RecordType>(record.type);
    const auto name = to_string(type);
    out["type"] = name == "unknown" ? json(record.type) : json(name);
    if (!describe_payload(type, record.payload, out)) {
        std::string hex;
        hex.reserve(record.payload.size() * 2);
        for (char c : record.payload) fmt::format_to(std::back_inserter(hex), "{:02x}", static_cast<unsigned char>(c));
        out["payload_hex"] = hex;
        out["error"] = name == "unknown" ? "unknown record type" : "payload does not decode";
    }
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace txflow::store
