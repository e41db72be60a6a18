// GET / and the UI's files, from the table compiled into the binary. Only
// names in the table are served, so no path reaches the file system; a path
// with ".." is refused outright.

#include "assets.hpp"

#include "internal.hpp"

namespace txflow::http::dash {

Response asset(const Dashboard::Impl& d, const Request& r) {
    if (r.path.find("..") != std::string::npos || r.path.find('\\') != std::string::npos)
        return error(400, "bad path: " + r.path);
    const std::string path = r.path == "/" ? std::string("/index.html") : r.path;
    for (const Asset& a : embedded_assets()) {
        if (a.path != path) continue;
        Response out;
        out.content_type = std::string(a.content_type);
        out.body = std::string(a.body);
        out.headers.emplace_back("Cache-Control", "no-cache");
        out.headers.emplace_back("X-Content-Type-Options", "nosniff");
        out.headers.emplace_back("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
        // Opened once with ?token=: the browser keeps it as a cookie for the API calls.
        if (!d.options.bearer_token.empty() && text_param(r, "token") == d.options.bearer_token)
            out.headers.emplace_back("Set-Cookie",
                                     "txflow_token=" + d.options.bearer_token + "; Path=/; HttpOnly; SameSite=Strict");
        return out;
    }
    return error(404, "not found: " + r.path);
}

}  // namespace txflow::http::dash
