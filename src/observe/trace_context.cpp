// TraceContext: the traceparent header parsed and formatted, random ids.

#include "txflow/observe/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace txflow::observe {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // uppercase is not valid in traceparent
}

// Reads 2 * N lowercase hex digits into bytes; false when one is not.
template <std::size_t N>
bool read_hex(std::string_view text, std::array<std::uint8_t, N>& bytes) {
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = hex_value(text[2 * i]);
        const int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

bool all_zero(const std::uint8_t* bytes, std::size_t size) {
    return std::all_of(bytes, bytes + size, [](std::uint8_t b) { return b == 0; });
}

// Ids need to be unique, not secret: a per-thread SplitMix64 seeded once
// (random_device and the thread's address) costs a few ns an id, no lock.
class IdGenerator {
public:
    IdGenerator() {
        std::random_device device;
        state_ = (std::uint64_t{device()} << 32) ^ device() ^ reinterpret_cast<std::uintptr_t>(this);
    }
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
};

std::uint64_t next_id_word() {
    thread_local IdGenerator generator;
    return generator.next();
}

template <std::size_t N>
void fill_random(std::array<std::uint8_t, N>& bytes) {
    static_assert(N % 8 == 0);
    do {
        for (std::size_t i = 0; i < N; i += 8) {
            const std::uint64_t r = next_id_word();
            std::memcpy(bytes.data() + i, &r, 8);
        }
    } while (all_zero(bytes.data(), N));
}

}  // namespace

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(2 * size, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kDigits[bytes[i] >> 4];
        out[2 * i + 1] = kDigits[bytes[i] & 0xf];
    }
    return out;
}

Result<TraceContext, std::string> TraceContext::parse(std::string_view traceparent, std::string_view tracestate) {
    const auto fail = [&](std::string why) {
        return unexpected(fmt::format("traceparent '{}': {}", traceparent, why));
    };
    // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55
    if (traceparent.size() < 55)
        return fail(
            fmt::format("too short ({} characters; expected 55: 00-<32 hex>-<16 hex>-<2 hex>)", traceparent.size()));
    if (traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-')
        return fail("expected '-' at positions 3, 36 and 53 (00-<32 hex>-<16 hex>-<2 hex>)");
    std::array<std::uint8_t, 1> version{};
    TraceContext c;
    std::array<std::uint8_t, 1> flags{};
    if (!read_hex(traceparent.substr(0, 2), version)) return fail("the version is not 2 lowercase hex digits");
    if (!read_hex(traceparent.substr(3, 32), c.trace_id)) return fail("the trace id is not 32 lowercase hex digits");
    if (!read_hex(traceparent.substr(36, 16), c.span_id)) return fail("the parent id is not 16 lowercase hex digits");
    if (!read_hex(traceparent.substr(53, 2), flags)) return fail("the flags are not 2 lowercase hex digits");
    if (version[0] == 0xff) return fail("version ff is invalid");
    // Version 00 is exactly 55 characters; a later version may append "-..." fields.
    if (version[0] == 0 && traceparent.size() != 55) return fail("version 00 has 55 characters, this has more");
    if (version[0] != 0 && traceparent[55] != '-') return fail("a field after the flags must start with '-'");
    if (all_zero(c.trace_id.data(), c.trace_id.size())) return fail("the trace id is all zeros");
    if (all_zero(c.span_id.data(), c.span_id.size())) return fail("the parent id is all zeros");
    c.flags = flags[0];
    c.tracestate = std::string(tracestate);
    return c;
}

TraceContext TraceContext::new_root() {
    TraceContext c;
    fill_random(c.trace_id);
    fill_random(c.span_id);
    return c;
}

TraceContext TraceContext::child() const {
    TraceContext c;
    c.trace_id = trace_id;
    c.flags = flags;
    c.tracestate = tracestate;
    fill_random(c.span_id);
    return c;
}

std::string TraceContext::traceparent() const {
    return fmt::format("00-{}-{}-{:02x}", trace_id_hex(), span_id_hex(), flags);
}

std::string TraceContext::trace_id_hex() const {
    return to_hex(trace_id.data(), trace_id.size());
}
std::string TraceContext::span_id_hex() const {
    return to_hex(span_id.data(), span_id.size());
}

bool TraceContext::valid() const {
    return !all_zero(trace_id.data(), trace_id.size()) && !all_zero(span_id.data(), span_id.size());
}

}  // namespace txflow::observe
