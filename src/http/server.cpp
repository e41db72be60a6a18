// The embeddable server on cpp-httplib. Every request goes through one
// pre-routing handler that does the routing itself, so an unknown path gets
// 404 and a known path with another method 405 (httplib alone answers 404).

#include "txflow/http/server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace txflow::http {

struct Server::Impl {
    struct Route {
        std::string method;
        std::string path;  // without the trailing '*' of a prefix
        bool prefix;
        Handler handler;
    };
    httplib::Server server;
    std::vector<Route> routes;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable finished_cv;
    bool finished = false;
    bool started = false;

    // The routes for this path: exact ones, else those of the longest prefix.
    std::vector<const Route*> matching(const std::string& path) const {
        std::vector<const Route*> exact;
        std::vector<const Route*> best;
        std::size_t best_len = 0;
        for (const Route& r : routes) {
            if (!r.prefix && r.path == path) exact.push_back(&r);
            if (r.prefix && path.starts_with(r.path) && r.path.size() >= best_len) {
                if (r.path.size() > best_len) best.clear();
                best_len = r.path.size();
                best.push_back(&r);
            }
        }
        return exact.empty() ? best : exact;
    }

    bool takes_body(const httplib::Request& in) const {
        if (in.method != "POST" && in.method != "PUT" && in.method != "PATCH") return false;
        for (const Route* r : matching(in.path))
            if (r->method == in.method) return true;
        return false;
    }

    void dispatch(const httplib::Request& in, httplib::Response& out) const {
        const auto found = matching(in.path);
        if (found.empty()) {
            out.status = 404;
            out.set_content("not found: " + in.path + "\n", "text/plain; charset=utf-8");
            return;
        }
        const std::string method = in.method == "HEAD" ? "GET" : in.method;
        const Route* route = nullptr;
        std::string allow;
        for (const Route* r : found) {
            if (r->method == method) route = r;
            allow += allow.empty() ? r->method : ", " + r->method;
        }
        if (route == nullptr) {
            out.status = 405;
            out.set_header("Allow", allow);
            out.set_content("method " + in.method + " not allowed on " + in.path + " (allowed: " + allow + ")\n",
                            "text/plain; charset=utf-8");
            return;
        }
        Request request{in.method, in.path, {in.params.begin(), in.params.end()}, in.body, {}};
        for (const auto& [name, value] : in.headers) {
            std::string lower = name;
            for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers.emplace(std::move(lower), value);
        }
        try {
            Response response = route->handler(request);
            out.status = response.status;
            for (const auto& [name, value] : response.headers) out.set_header(name, value);
            out.set_content(std::move(response.body), response.content_type.c_str());
        } catch (const std::exception& e) {
            out.status = 500;
            out.set_content(std::string("internal error: ") + e.what() + "\n", "text/plain; charset=utf-8");
        }
    }
};

Server::Server(ServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

Server::~Server() {
    stop();
}

Server& Server::route(std::string method, std::string path, Handler handler) {
    if (impl_->started) throw std::logic_error("txflow::http::Server: route() after start()");
    const bool prefix = path.ends_with('*');
    if (prefix) path.pop_back();
    impl_->routes.push_back({std::move(method), std::move(path), prefix, std::move(handler)});
    return *this;
}

Server& Server::metrics(std::shared_ptr<observe::Registry> registry, std::string path) {
    return get(std::move(path), [registry = std::move(registry)](const Request&) {
        return Response{200, std::string(observe::Registry::kContentType), registry->expose(), {}};
    });
}

Result<std::uint16_t, std::string> Server::start() {
    Impl& im = *impl_;
    if (im.started) return unexpected(std::string("the server was started before"));
    im.started = true;
    const std::size_t threads = options_.threads == 0 ? 1 : options_.threads;
    im.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // httplib reads a request's body only before its routed handlers: a
    // request that a route takes with a body (POST, PUT, PATCH) goes on to
    // the catch-all handlers; everything else (404, 405, GET) is answered
    // here, before any body is read.
    im.server.set_pre_routing_handler([&im](const httplib::Request& in, httplib::Response& out) {
        if (im.takes_body(in)) return httplib::Server::HandlerResponse::Unhandled;
        im.dispatch(in, out);
        return httplib::Server::HandlerResponse::Handled;
    });
    const auto all = [&im](const httplib::Request& in, httplib::Response& out) { im.dispatch(in, out); };
    im.server.Post(".*", all);
    im.server.Put(".*", all);
    im.server.Patch(".*", all);
    // httplib's default is SO_REUSEPORT, which lets a second process bind the
    // same port and take half the scrapes: SO_REUSEADDR only (a restart can
    // still bind while old connections sit in TIME_WAIT).
    im.server.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    im.server.set_keep_alive_max_count(100);
    im.server.set_read_timeout(std::chrono::seconds(5));
    im.server.set_write_timeout(std::chrono::seconds(5));
    const std::string where = options_.host + ":" + std::to_string(options_.port);
    if (options_.port == 0) {
        const int bound = im.server.bind_to_any_port(options_.host);
        if (bound <= 0) return unexpected("cannot listen on " + where + ": bind failed (bad address?)");
        port_ = static_cast<std::uint16_t>(bound);
    } else {
        if (!im.server.bind_to_port(options_.host, options_.port))
            return unexpected("cannot listen on " + where + ": bind failed (address in use or not local?)");
        port_ = options_.port;
    }
    im.thread = std::thread([&im] {
        im.server.listen_after_bind();
        const std::lock_guard lock(im.mutex);
        im.finished = true;
        im.finished_cv.notify_all();
    });
    return port_;
}

void Server::stop() {
    Impl& im = *impl_;
    if (!im.thread.joinable()) return;
    {
        // httplib's stop() does nothing until the listening loop has begun:
        // ask again until the loop has ended.
        std::unique_lock lock(im.mutex);
        while (!im.finished) {
            im.server.stop();
            im.finished_cv.wait_for(lock, std::chrono::milliseconds(10));
        }
    }
    im.thread.join();
}

Result<std::unique_ptr<Server>, std::string> serve_metrics(std::shared_ptr<observe::Registry> registry,
                                                           ServerOptions options) {
    auto server = std::make_unique<Server>(std::move(options));
    server->metrics(std::move(registry));
    if (auto started = server->start(); !started) return unexpected(std::move(started.error()));
    return server;
}

Result<ServerOptions, std::string> parse_listen_address(std::string_view text) {
    const std::string quoted = "'" + std::string(text) + "'";
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return unexpected(quoted + ": expected HOST:PORT, e.g. 127.0.0.1:9464");
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned long port = 0;
    if (port_text.empty() || port_text.size() > 5 ||
        port_text.find_first_not_of("0123456789") != std::string_view::npos ||
        (port = std::stoul(std::string(port_text))) > 65535) {
        return unexpected(quoted + ": the port must be a number from 0 to 65535");
    }
    ServerOptions options;
    options.host = host.empty() ? std::string("127.0.0.1") : std::string(host);
    options.port = static_cast<std::uint16_t>(port);
    return options;
}

}  // namespace txflow::http
