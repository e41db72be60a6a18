// Who may look and who may act: bearer token (header, or the cookie that
// opening the page with ?token= sets), basic auth, the CSRF token of POSTs,
// read-only mode and the body limit.

#include <algorithm>
#include <array>
#include <random>

#include "internal.hpp"

namespace txflow::http::dash {
namespace {

// Compares without stopping at the first difference (no timing oracle).
bool same(std::string_view a, std::string_view b) {
    unsigned diff = a.size() == b.size() ? 0U : 1U;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^
                                      static_cast<unsigned char>(i < b.size() ? b[i] : '\0'));
    return diff == 0;
}

// Standard, padded base64 (RFC 4648 section 4, as RFC 7617 sends it); empty
// on any malformed input, which then matches no credentials. Hand-written:
// cpp-httplib 0.11 exports only an encoder (and no header declares it), and
// txflow does not link OpenSSL itself (EVP_DecodeBlock) for eighteen lines.
std::string base64_decode(std::string_view in) {
    static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (in.size() % 4 != 0) return {};
    const std::size_t padding = in.size() - std::min(in.size(), in.find_last_not_of('=') + 1);
    if (padding > 2) return {};
    in.remove_suffix(padding);
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : in) {
        const auto pos = kAlphabet.find(c);
        if (pos == std::string_view::npos) return {};
        buffer = (buffer << 6U) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
        }
    }
    return out;
}

std::string cookie(const Request& r, std::string_view name) {
    const std::string header = r.header("cookie");
    std::string_view rest = header;
    while (!rest.empty()) {
        const auto semi = rest.find(';');
        std::string_view part = rest.substr(0, semi);
        while (part.starts_with(' ')) part.remove_prefix(1);
        if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=')
            return std::string(part.substr(name.size() + 1));
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
    }
    return {};
}

bool authorized(const DashboardOptions& o, const Request& r) {
    const std::string auth = r.header("authorization");
    if (!o.bearer_token.empty()) {
        if (auth.starts_with("Bearer ") && same(std::string_view(auth).substr(7), o.bearer_token)) return true;
        if (same(cookie(r, "txflow_token"), o.bearer_token)) return true;
        if (same(text_param(r, "token"), o.bearer_token)) return true;
    }
    if (!o.basic_user.empty() && auth.starts_with("Basic ")) {
        const std::string pair = base64_decode(std::string_view(auth).substr(6));
        if (same(pair, o.basic_user + ":" + o.basic_password)) return true;
    }
    return false;
}

}  // namespace

std::optional<Response> refuse_unauthenticated(const Dashboard::Impl& d, const Request& r) {
    const DashboardOptions& o = d.options;
    if (o.bearer_token.empty() && o.basic_user.empty()) return std::nullopt;
    if (!authorized(o, r)) {
        Response out = error(401, "authentication required: a bearer token or basic auth");
        out.headers.emplace_back("WWW-Authenticate",
                                 o.basic_user.empty() ? "Bearer realm=\"txflow\"" : "Basic realm=\"txflow\"");
        return out;
    }
    return std::nullopt;
}

std::optional<Response> refuse_action(const Dashboard::Impl& d, const Request& r) {
    if (r.body.size() > d.options.max_body_bytes)
        return error(413, "request body of " + std::to_string(r.body.size()) + " bytes exceeds the limit of " +
                              std::to_string(d.options.max_body_bytes));
    if (d.options.read_only) return error(403, "the dashboard is read-only: actions are disabled");
    if (!same(r.header("x-csrf-token"), d.csrf))
        return error(403, "missing or wrong X-CSRF-Token header (get it from GET /api/v1/session)");
    return std::nullopt;
}

std::string random_token() {
    std::random_device device;
    std::array<unsigned, 4> words{};
    for (unsigned& w : words) w = device();
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    for (const unsigned w : words)
        for (unsigned shift = 0; shift < 32; shift += 4) out.push_back(kHex[(w >> shift) & 0xFU]);
    return out;
}

Response session(const Dashboard::Impl& d) {
    return json_response(json{{"csrf_token", d.csrf}, {"read_only", d.options.read_only}, {"api", "v1"}});
}

}  // namespace txflow::http::dash
