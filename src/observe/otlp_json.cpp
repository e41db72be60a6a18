// Spans in the OTLP/HTTP JSON encoding (ids as hex, times as decimal
// strings, enums as numbers), and as JSON lines.

#include "txflow/observe/exporters.hpp"

#include <nlohmann/json.hpp>

namespace txflow::observe {
namespace {

using nlohmann::json;

json value_json(const AttributeValue& v) {
    return std::visit(
        [](const auto& x) -> json {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) return {{"stringValue", x}};
            else if constexpr (std::is_same_v<T, std::int64_t>) return {{"intValue", std::to_string(x)}};
            else if constexpr (std::is_same_v<T, double>) return {{"doubleValue", x}};
            else return {{"boolValue", x}};
        },
        v);
}

json attributes_json(const std::vector<Attribute>& attributes) {
    json out = json::array();
    for (const auto& a : attributes) out.push_back({{"key", a.key}, {"value", value_json(a.value)}});
    return out;
}

json span_json(const Span& s) {
    json j = {
        {"traceId", s.context.trace_id_hex()},
        {"spanId", s.context.span_id_hex()},
        {"name", s.name},
        {"kind", static_cast<int>(s.kind)},
        {"startTimeUnixNano", std::to_string(s.start_unix_ns)},
        {"endTimeUnixNano", std::to_string(s.end_unix_ns)},
        {"attributes", attributes_json(s.attributes)},
        {"status", {{"code", static_cast<int>(s.status)}}},
    };
    if (s.parent_span_id != SpanId{}) j["parentSpanId"] = to_hex(s.parent_span_id.data(), s.parent_span_id.size());
    if (!s.context.tracestate.empty()) j["traceState"] = s.context.tracestate;
    if (!s.status_message.empty()) j["status"]["message"] = s.status_message;
    return j;
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string to_otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
    json list = json::array();
    for (const auto& s : spans) list.push_back(span_json(s));
    const json body = {
        {"resourceSpans",
         json::array({{
             {"resource", {{"attributes", attributes_json({{"service.name", service_name}})}}},
             {"scopeSpans", json::array({{{"scope", {{"name", "txflow"}}}, {"spans", std::move(list)}}})},
         }})},
    };
    return dump(body);
}

std::string to_json_line(const Span& span, const std::string& service_name) {
    json j = span_json(span);
    j["service"] = service_name;
    return dump(j);
}

}  // namespace txflow::observe
