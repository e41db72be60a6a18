#pragma once
// For the tracing tests: a SpanExporter that keeps every span it is given, and a fixture around it.

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/observe/trace.hpp"
#include "txflow/testing.hpp"

namespace txflow::test {

class CollectingExporter final : public observe::SpanExporter {
public:
    void export_span(observe::Span span) noexcept override {
        const std::lock_guard lock(mutex_);
        spans_.push_back(std::move(span));
    }
    bool flush(std::chrono::milliseconds) override { return true; }
    std::vector<observe::Span> spans() const {
        const std::lock_guard lock(mutex_);
        return spans_;
    }
    std::optional<observe::Span> find(std::string_view name) const {
        const std::lock_guard lock(mutex_);
        auto it = std::find_if(spans_.begin(), spans_.end(), [&](const observe::Span& s) { return s.name == name; });
        if (it == spans_.end()) return std::nullopt;
        return *it;
    }

private:
    mutable std::mutex mutex_;
    std::vector<observe::Span> spans_;
};

// The value of a span's attribute, or none.
inline std::optional<observe::AttributeValue> attribute(const observe::Span& span, std::string_view key) {
    for (const auto& a : span.attributes)
        if (a.key == key) return a.value;
    return std::nullopt;
}

// A W3C traceparent to hand runs as their parent.
inline constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// A scheduler fixture (2 workers) whose tracer exports into a CollectingExporter.
struct Traced : testing::SchedulerFixture {
    explicit Traced(std::shared_ptr<CollectingExporter> e = std::make_shared<CollectingExporter>())
        : testing::SchedulerFixture(testing::FixtureOptions{
              .scheduler = SchedulerOptions{}.workers(2).tracer(std::make_shared<observe::Tracer>(e))}),
          exporter(std::move(e)) {}
    std::shared_ptr<CollectingExporter> exporter;
};

}  // namespace txflow::test
