// The OTLP/HTTP JSON exporter: one libcurl easy handle, used by the sending thread only.

#include "txflow/observe/exporters.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <stdexcept>

namespace txflow::observe {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at setup
    return v != nullptr ? std::string(v) : std::string();
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
    return size * n;
}

class OtlpExporter final : public BatchExporter {
public:
    explicit OtlpExporter(OtlpOptions options)
        : BatchExporter(options.batch), url_(traces_url(options.endpoint)), timeout_(options.timeout) {
        curl_global_init(CURL_GLOBAL_DEFAULT);  // reference counted, thread-safe in libcurl >= 7.84
        curl_ = curl_easy_init();
        if (curl_ == nullptr) throw std::runtime_error("OTLP exporter: curl_easy_init failed");
        headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    }
    ~OtlpExporter() override {
        shutdown();
        curl_slist_free_all(headers_);
        curl_easy_cleanup(curl_);
        curl_global_cleanup();
    }
    OtlpExporter(const OtlpExporter&) = delete;
    OtlpExporter& operator=(const OtlpExporter&) = delete;

private:
    static std::string traces_url(std::string endpoint) {
        while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
        const std::string suffix = "/v1/traces";
        if (endpoint.size() < suffix.size() ||
            endpoint.compare(endpoint.size() - suffix.size(), suffix.size(), suffix) != 0)
            endpoint += suffix;
        return endpoint;
    }

    bool send(const std::vector<Span>& batch) override {
        const std::string body = to_otlp_json(batch, options().service_name);
        curl_easy_reset(curl_);
        curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
        curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &discard);
        if (curl_easy_perform(curl_) != CURLE_OK) return false;
        long status = 0;
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
        return status >= 200 && status < 300;
    }

    std::string url_;
    std::chrono::milliseconds timeout_;
    CURL* curl_ = nullptr;
    curl_slist* headers_ = nullptr;
};

}  // namespace

OtlpOptions OtlpOptions::from_env() {
    OtlpOptions o;
    if (auto e = env("OTEL_EXPORTER_OTLP_ENDPOINT"); !e.empty()) o.endpoint = e;
    if (auto s = env("OTEL_SERVICE_NAME"); !s.empty()) o.batch.service_name = s;
    return o;
}

std::shared_ptr<BatchExporter> make_otlp_exporter(OtlpOptions options) {
    return std::make_shared<OtlpExporter>(std::move(options));
}

}  // namespace txflow::observe
