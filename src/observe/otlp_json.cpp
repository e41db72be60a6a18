// Spans in the OTLP/HTTP JSON encoding (ids as hex, times as decimal
// strings, enums as numbers), and as JSON lines. Written straight into one
// string on the exporter's sending thread: byte for byte what nlohmann::json's
// dump() gave for the same document (keys in std::map order, no spaces), which
// still escapes any string that needs it and formats doubles.

#include "txflow/observe/exporters.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace txflow::observe {
namespace {

void put_string(std::string& out, std::string_view s) {
    const bool plain =
        std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) {
        out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
    }
    out += '"';
    out += s;
    out += '"';
}

void put_int(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void put_quoted_int(std::string& out, std::int64_t v) {
    out += '"';
    put_int(out, v);
    out += '"';
}

void put_hex(std::string& out, const std::uint8_t* bytes, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < size; ++i) {
        out += kDigits[bytes[i] >> 4];
        out += kDigits[bytes[i] & 0xf];
    }
    out += '"';
}

void put_value(std::string& out, const AttributeValue& v) {
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                out += "{\"stringValue\":";
                put_string(out, x);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                out += "{\"intValue\":";
                put_quoted_int(out, x);
            } else if constexpr (std::is_same_v<T, double>) {
                out += "{\"doubleValue\":";
                out += nlohmann::json(x).dump();
            } else {
                out += "{\"boolValue\":";
                out += x ? "true" : "false";
            }
        },
        v);
    out += '}';
}

void put_attribute(std::string& out, std::string_view key, const AttributeValue& value) {
    out += "{\"key\":";
    put_string(out, key);
    out += ",\"value\":";
    put_value(out, value);
    out += '}';
}

void put_attributes(std::string& out, const std::vector<Attribute>& attributes) {
    out += '[';
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        if (i != 0) out += ',';
        put_attribute(out, attributes[i].key, attributes[i].value);
    }
    out += ']';
}

// The span's members in key order; `service` (JSON lines) goes between parentSpanId and spanId.
void put_span(std::string& out, const Span& s, const std::string* service) {
    out += "{\"attributes\":";
    put_attributes(out, s.attributes);
    out += ",\"endTimeUnixNano\":";
    put_quoted_int(out, s.end_unix_ns);
    out += ",\"kind\":";
    put_int(out, static_cast<int>(s.kind));
    out += ",\"name\":";
    put_string(out, s.name);
    if (s.parent_span_id != SpanId{}) {
        out += ",\"parentSpanId\":";
        put_hex(out, s.parent_span_id.data(), s.parent_span_id.size());
    }
    if (service != nullptr) {
        out += ",\"service\":";
        put_string(out, *service);
    }
    out += ",\"spanId\":";
    put_hex(out, s.context.span_id.data(), s.context.span_id.size());
    out += ",\"startTimeUnixNano\":";
    put_quoted_int(out, s.start_unix_ns);
    out += ",\"status\":{\"code\":";
    put_int(out, static_cast<int>(s.status));
    if (!s.status_message.empty()) {
        out += ",\"message\":";
        put_string(out, s.status_message);
    }
    out += "},\"traceId\":";
    put_hex(out, s.context.trace_id.data(), s.context.trace_id.size());
    if (!s.context.tracestate.empty()) {
        out += ",\"traceState\":";
        put_string(out, s.context.tracestate);
    }
    out += '}';
}

}  // namespace

std::string to_otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
    std::string out;
    out.reserve(128 + spans.size() * 640);
    out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
    put_attribute(out, "service.name", service_name);
    out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"txflow\"},\"spans\":[";
    for (std::size_t i = 0; i < spans.size(); ++i) {
        if (i != 0) out += ',';
        put_span(out, spans[i], nullptr);
    }
    out += "]}]}]}";
    return out;
}

std::string to_json_line(const Span& span, const std::string& service_name) {
    std::string out;
    out.reserve(640);
    put_span(out, span, &service_name);
    return out;
}

}  // namespace txflow::observe
