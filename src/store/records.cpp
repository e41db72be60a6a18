#include "txflow/store/records.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/record_types.hpp"

namespace txflow::store {

std::string_view to_string(RecordType type) {
    switch (type) {
        case RecordType::saga_created: return "saga_created";
        case RecordType::saga_state: return "saga_state";
        case RecordType::step_state: return "step_state";
        case RecordType::step_attempt: return "step_attempt";
        case RecordType::saga_data: return "saga_data";
        case RecordType::saga_removed: return "saga_removed";
        case RecordType::saga_trace: return "saga_trace";
        case RecordType::job_fired: return "job_fired";
        case RecordType::retry_armed: return "retry_armed";
        case RecordType::retry_done: return "retry_done";
        case RecordType::dead_letter: return "dead_letter";
        case RecordType::dead_letter_removed: return "dead_letter_removed";
        case RecordType::atomic_begin: return "atomic_begin";
        case RecordType::atomic_vote: return "atomic_vote";
        case RecordType::atomic_decision: return "atomic_decision";
        case RecordType::atomic_ack: return "atomic_ack";
        case RecordType::job_checkpoint: return "job_checkpoint";
        case RecordType::job_checkpoint_cleared: return "job_checkpoint_cleared";
        case RecordType::atomic_stalled: return "atomic_stalled";
        case RecordType::atomic_removed: return "atomic_removed";
        case RecordType::retry_trace: return "retry_trace";
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

// How one field of a record shows in its JSON.
template <class T>
void put(json& out, const char* key, const T& v, Show show) {
    if constexpr (std::is_same_v<T, std::optional<std::string>>) {
        if (v) put(out, key, *v, show);
    } else if constexpr (std::is_same_v<T, saga::State>) {
        out[key] = saga::to_string(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (show == Show::unless_empty && v.empty()) return;
        out[key] = show == Show::json_text ? data_value(v) : json(v);
    } else {
        out[key] = v;
    }
}

bool describe_payload(RecordType type, std::string_view payload, json& out) {
    return visit_record_type(type, [&]<class R>() {
        R r;
        if (!decode(payload, r)) return false;
        R::fields(r, [&](const char* key, const auto& v, Show show = Show::value) {
            if (show != Show::hidden) put(out, key, v, show);
        });
        return true;
    });
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
