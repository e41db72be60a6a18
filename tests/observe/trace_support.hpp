#pragma once
// A SpanExporter for tests: keeps every span it is given.

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txflow/observe/trace.hpp"

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

}  // namespace txflow::test
