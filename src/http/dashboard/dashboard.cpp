// The dashboard's front door: mounting, routing under /api/v1/, and the JSON
// helpers every handler uses. Every answer is JSON; no exception escapes.

#include <exception>
#include <stdexcept>

#include "internal.hpp"

namespace txflow::http {

Dashboard::Dashboard(Scheduler& scheduler, std::shared_ptr<RunHistory> history, DashboardOptions options)
    : impl_(std::make_unique<Impl>(Impl{scheduler, history ? std::move(history) : std::make_shared<RunHistory>(),
                                        std::move(options), dash::random_token()})) {}

Dashboard::~Dashboard() = default;

const std::string& Dashboard::csrf_token() const noexcept {
    return impl_->csrf;
}

void Dashboard::mount(Server& server) {
    const DashboardOptions& o = impl_->options;
    const bool authenticated = !o.bearer_token.empty() || !o.basic_user.empty();
    if (!authenticated && !is_loopback_host(server.options().host))
        throw std::invalid_argument("the dashboard listens on " + server.options().host +
                                    ", beyond loopback: set a bearer token or basic-auth credentials");
    const auto handler = [this](const Request& r) { return handle(r); };
    server.route("GET", "/api/v1/*", handler);
    server.route("POST", "/api/v1/*", handler);
    server.route("GET", "/*", handler);
}

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Response Dashboard::handle(const Request& r) const {
    using namespace dash;
    try {
        if (auto refused = refuse_unauthenticated(*impl_, r)) return *refused;
        if (!r.path.starts_with("/api/")) return asset(*impl_, r);
        if (!r.path.starts_with("/api/v1/")) return error(404, "unknown API version: " + r.path + " (use /api/v1/)");
        const std::vector<std::string> seg = api_segments(r.path);
        if (r.method == "POST") {
            if (auto refused = refuse_action(*impl_, r)) return *refused;
            return action(*impl_, seg, r);
        }
        const std::size_t n = seg.size();
        const std::string first = n > 0 ? seg[0] : std::string();
        if (n == 1 && first == "session") return session(*impl_);
        if (n == 1 && first == "overview") return overview(*impl_);
        if (n == 1 && first == "jobs") return jobs(*impl_, r);
        if (n == 2 && first == "jobs") return job(*impl_, seg[1]);
        if (n == 1 && first == "runs") return runs(*impl_, r);
        if (n == 1 && first == "queues") return queues(*impl_);
        if (n == 1 && first == "sagas") return sagas(*impl_, r);
        if (n == 2 && first == "sagas") return saga(*impl_, seg[1]);
        if (n == 1 && first == "transactions") return transactions(*impl_, r);
        if (n == 2 && first == "transactions") return transaction(*impl_, seg[1]);
        if (n == 1 && first == "cluster") return cluster(*impl_);
        if (n == 1 && first == "breakers") return breakers(*impl_);
        if (n == 1 && first == "dead-letters") return dead_letters(*impl_);
        return error(404, "no such endpoint: GET " + r.path);
    } catch (const BadRequest& bad) {
        return error(bad.status, bad.message);
    } catch (const std::exception& e) {
        return error(500, std::string("internal error: ") + e.what());
    } catch (...) {
        return error(500, "internal error");
    }
}

namespace dash {

Response json_response(const json& body, int status) {
    Response out;
    out.status = status;
    out.content_type = "application/json";
    out.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

Response error(int status, std::string_view message) {
    return json_response(json{{"error", message}}, status);
}

std::int64_t epoch_ms(WallTime t) {
    return t.time_since_epoch().count();
}

json time_json(const std::optional<WallTime>& t) {
    return t ? json(epoch_ms(*t)) : json(nullptr);
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) throw BadRequest{400, "malformed percent-escape in the path"};
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (text[i] == '%') {
            throw BadRequest{400, "malformed percent-escape in the path"};
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}
}  // namespace

std::vector<std::string> api_segments(std::string_view path) {
    path.remove_prefix(std::string_view("/api/v1/").size());
    std::vector<std::string> out;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const std::string_view part = path.substr(0, slash);
        if (!part.empty()) out.push_back(percent_decode(part));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

std::string text_param(const Request& r, const std::string& name) {
    const auto it = r.params.find(name);
    return it == r.params.end() ? std::string() : it->second;
}

std::optional<std::size_t> size_param(const Request& r, const std::string& name, std::size_t max) {
    const auto it = r.params.find(name);
    if (it == r.params.end() || it->second.empty()) return std::nullopt;
    const std::string& text = it->second;
    if (text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
        throw BadRequest{400, "?" + name + "=" + text + ": expected a number from 0 to " + std::to_string(max)};
    const std::size_t value = std::stoul(text);
    if (value > max)
        throw BadRequest{400, "?" + name + "=" + text + ": expected a number from 0 to " + std::to_string(max)};
    return value;
}

}  // namespace dash
}  // namespace txflow::http
