#include "txflow/store/records.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

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

// How one member of a record shows in its JSON.
enum class Show : std::uint8_t {
    value,         // as it is (a saga::State by its name)
    unless_empty,  // left out when empty (an optional: when not set)
    json_text,     // JSON text, shown as JSON when it parses; an optional is left out when not set
};

template <class R, class T>
struct Member {
    const char* key;
    T R::*member;
    Show show = Show::value;
};
template <class R, class T>
Member(const char*, T R::*, Show = Show::value) -> Member<R, T>;

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

// The members each record shows, by their keys (the JSON object sorts them).
template <class R>
inline constexpr auto kMembers = nullptr;
template <>
inline constexpr auto kMembers<SagaCreated> =
    std::tuple{Member{"saga", &SagaCreated::id}, Member{"definition", &SagaCreated::definition},
               Member{"steps", &SagaCreated::steps}, Member{"data", &SagaCreated::data, Show::json_text},
               Member{"at_ms", &SagaCreated::at_ms}};
template <>
inline constexpr auto kMembers<SagaStateChange> =
    std::tuple{Member{"saga", &SagaStateChange::id}, Member{"to", &SagaStateChange::to},
               Member{"error", &SagaStateChange::error, Show::unless_empty}, Member{"at_ms", &SagaStateChange::at_ms}};
template <>
inline constexpr auto kMembers<StepStateChange> =
    std::tuple{Member{"saga", &StepStateChange::id},
               Member{"step", &StepStateChange::step},
               Member{"to", &StepStateChange::to},
               Member{"error", &StepStateChange::error, Show::unless_empty},
               Member{"data", &StepStateChange::data, Show::json_text},
               Member{"duration_ns", &StepStateChange::duration_ns},
               Member{"at_ms", &StepStateChange::at_ms}};
template <>
inline constexpr auto kMembers<StepAttempt> = std::tuple{Member{"saga", &StepAttempt::id},
                                                         Member{"step", &StepAttempt::step},
                                                         Member{"compensation", &StepAttempt::compensation},
                                                         Member{"attempt", &StepAttempt::attempt},
                                                         Member{"error", &StepAttempt::error, Show::unless_empty},
                                                         Member{"at_ms", &StepAttempt::at_ms}};
template <>
inline constexpr auto kMembers<SagaRemoved> = std::tuple{Member{"saga", &SagaRemoved::id}};
template <>
inline constexpr auto kMembers<SagaData> =
    std::tuple{Member{"saga", &SagaData::id}, Member{"data", &SagaData::data, Show::json_text}};
template <>
inline constexpr auto kMembers<JobFired> =
    std::tuple{Member{"job", &JobFired::job}, Member{"fire_ms", &JobFired::fire_ms}};
template <>
inline constexpr auto kMembers<RetryArmed> = std::tuple{
    Member{"retry", &RetryArmed::retry}, Member{"job", &RetryArmed::job}, Member{"fire_ms", &RetryArmed::fire_ms},
    Member{"attempt", &RetryArmed::attempt}, Member{"due_ms", &RetryArmed::due_ms}};
template <>
inline constexpr auto kMembers<RetryDone> = std::tuple{Member{"retry", &RetryDone::retry}};
template <>
inline constexpr auto kMembers<DeadLetterAdded> =
    std::tuple{Member{"dead_letter", &DeadLetterAdded::id},  Member{"job", &DeadLetterAdded::job},
               Member{"fire_ms", &DeadLetterAdded::fire_ms}, Member{"attempts", &DeadLetterAdded::attempts},
               Member{"error", &DeadLetterAdded::error},     Member{"failed_ms", &DeadLetterAdded::failed_ms}};
template <>
inline constexpr auto kMembers<DeadLetterRemoved> = std::tuple{Member{"dead_letter", &DeadLetterRemoved::id}};

template <class R>
bool describe(std::string_view payload, json& out) {
    R r;
    if (!decode(payload, r)) return false;
    std::apply([&](const auto&... m) { (put(out, m.key, r.*m.member, m.show), ...); }, kMembers<R>);
    return true;
}

bool describe_payload(RecordType type, std::string_view p, json& o) {
    switch (type) {
        case RecordType::saga_created: return describe<SagaCreated>(p, o);
        case RecordType::saga_state: return describe<SagaStateChange>(p, o);
        case RecordType::step_state: return describe<StepStateChange>(p, o);
        case RecordType::step_attempt: return describe<StepAttempt>(p, o);
        case RecordType::saga_removed: return describe<SagaRemoved>(p, o);
        case RecordType::saga_data: return describe<SagaData>(p, o);
        case RecordType::job_fired: return describe<JobFired>(p, o);
        case RecordType::retry_armed: return describe<RetryArmed>(p, o);
        case RecordType::retry_done: return describe<RetryDone>(p, o);
        case RecordType::dead_letter: return describe<DeadLetterAdded>(p, o);
        case RecordType::dead_letter_removed: return describe<DeadLetterRemoved>(p, o);
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
