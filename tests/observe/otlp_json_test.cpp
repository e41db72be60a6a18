// to_otlp_json and to_json_line write JSON by hand: byte for byte what
// nlohmann::json's dump() gives for the same document (the encoding they had
// before), for spans with every optional member and strings that need escaping.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "txflow/observe/exporters.hpp"

namespace otlp_json_test {

using nlohmann::json;
using txflow::observe::Attribute;
using txflow::observe::AttributeValue;
using txflow::observe::Span;

namespace {

// The reference: the document built with nlohmann::json, as the exporter did before.
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
    if (s.parent_span_id != txflow::observe::SpanId{})
        j["parentSpanId"] = txflow::observe::to_hex(s.parent_span_id.data(), s.parent_span_id.size());
    if (!s.context.tracestate.empty()) j["traceState"] = s.context.tracestate;
    if (!s.status_message.empty()) j["status"]["message"] = s.status_message;
    return j;
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string reference_otlp(const std::vector<Span>& spans, const std::string& service) {
    json list = json::array();
    for (const auto& s : spans) list.push_back(span_json(s));
    const json body = {
        {"resourceSpans",
         json::array({{
             {"resource", {{"attributes", attributes_json({{"service.name", service}})}}},
             {"scopeSpans", json::array({{{"scope", {{"name", "txflow"}}}, {"spans", std::move(list)}}})},
         }})},
    };
    return dump(body);
}

std::vector<Span> sample_spans() {
    std::vector<Span> spans;
    Span plain;
    plain.name = "job nightly";
    plain.context = txflow::observe::TraceContext::new_root();
    plain.kind = Span::Kind::consumer;
    plain.start_unix_ns = 1'700'000'000'000'000'000;
    plain.end_unix_ns = 1'700'000'000'000'001'500;
    plain.status = Span::Status::ok;
    plain.attributes = {{"messaging.system", std::string("txflow")},
                        {"txflow.attempt", std::int64_t{3}},
                        {"negative", std::int64_t{-42}}};
    spans.push_back(plain);
    Span full = plain;
    full.name = "step \"debit\"\n\ttab \\ slash / é \x01 \x7f";
    full.parent_span_id = {0, 1, 2, 3, 0xfe, 0xff, 0x10, 0xab};
    full.context.tracestate = "vendor=a\"b";
    full.status = Span::Status::error;
    full.status_message = "bad utf-8: \xff\xfe end";
    full.attributes.push_back({"ratio", 0.25});
    full.attributes.push_back({"big", 1e300});
    full.attributes.push_back({"whole", 3.0});
    full.attributes.push_back({"flag", true});
    full.attributes.push_back({"off", false});
    full.attributes.push_back({"k\"ey", std::string("")});
    spans.push_back(full);
    Span empty;  // no attributes, unset status, zero times
    spans.push_back(empty);
    return spans;
}

}  // namespace

TEST_CASE("to_otlp_json: the bytes nlohmann::json's dump gives for the same document", "[observe][trace][otlp]") {
    const auto spans = sample_spans();
    CHECK(txflow::observe::to_otlp_json(spans, "billing") == reference_otlp(spans, "billing"));
    CHECK(txflow::observe::to_otlp_json(spans, "svc \"x\"") == reference_otlp(spans, "svc \"x\""));
    CHECK(txflow::observe::to_otlp_json({}, "billing") == reference_otlp({}, "billing"));
}

TEST_CASE("to_json_line: the bytes nlohmann::json's dump gives, service included", "[observe][trace]") {
    for (const auto& s : sample_spans()) {
        json j = span_json(s);
        j["service"] = "billing";
        CHECK(txflow::observe::to_json_line(s, "billing") == dump(j));
    }
}

}  // namespace otlp_json_test
