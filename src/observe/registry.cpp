// The registry: families by name, name checks, collectors, exposition.

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "txflow/observe/metrics.hpp"

namespace txflow::observe {
namespace {

bool valid_name(std::string_view name, bool metric) {
    if (name.empty()) return false;
    const auto head = [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
    };
    if (!head(name[0])) return false;
    return std::all_of(name.begin() + 1, name.end(), [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

void check(std::string_view name, MetricType type, const std::vector<std::string>& labels,
           const FamilyOptions& options) {
    const std::string where = "metric '" + std::string(name) + "': ";
    if (!valid_name(name, true))
        throw std::invalid_argument(where + "not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
    const bool total = name.size() > 6 && name.ends_with("_total");
    if (type == MetricType::counter && !total) throw std::invalid_argument(where + "a counter's name ends in _total");
    if (type != MetricType::counter && total) throw std::invalid_argument(where + "only counters end in _total");
    for (const auto& l : labels) {
        if (!valid_name(l, false) || l.starts_with("__"))
            throw std::invalid_argument(where + "label '" + l + "' is not a valid label name");
        if (type == MetricType::histogram && l == "le")
            throw std::invalid_argument(where + "a histogram cannot have a label named le");
        if (std::count(labels.begin(), labels.end(), l) > 1)
            throw std::invalid_argument(where + "label '" + l + "' appears twice");
    }
    if (!labels.empty() && options.overflow_label >= labels.size())
        throw std::invalid_argument(where + "overflow_label is not the index of a label");
}

}  // namespace

Registry::Registry(RegistryOptions options) : options_(options) {
    auto family = std::make_unique<Family<Counter>>(
        "txflow_metrics_series_dropped_total",
        "Label sets folded into the overflow series (value \"other\") because the family reached its series limit",
        MetricType::counter, std::vector<std::string>{"family"}, FamilyOptions{.max_series = SIZE_MAX}, nullptr,
        Counter::Config{});
    dropped_ = family.get();
    families_.push_back(std::move(family));
}

Registry::~Registry() = default;

template <class Cell>
Family<Cell>& Registry::add(std::string_view name, std::string_view help, MetricType type,
                            std::vector<std::string> labels, FamilyOptions options, typename Cell::Config config) {
    check(name, type, labels, options);
    if (options.max_series == 0) options.max_series = options_.max_series_per_family;
    const std::lock_guard lock(mutex_);
    for (const auto& f : families_) {
        if (f->name() != name) continue;
        if (f->type() != type || f->label_names() != labels)
            throw std::invalid_argument("metric '" + std::string(name) +
                                        "': registered before with another type or other labels");
        return static_cast<Family<Cell>&>(*f);
    }
    Counter* dropped = labels.empty() ? nullptr : &dropped_->with({name});
    auto family = std::make_unique<Family<Cell>>(std::string(name), std::string(help), type, std::move(labels), options,
                                                 dropped, std::move(config));
    auto& out = *family;
    families_.push_back(std::move(family));
    return out;
}

Family<Counter>& Registry::counter(std::string_view name, std::string_view help, std::vector<std::string> labels,
                                   FamilyOptions options) {
    return add<Counter>(name, help, MetricType::counter, std::move(labels), options, {});
}

Family<Gauge>& Registry::gauge(std::string_view name, std::string_view help, std::vector<std::string> labels,
                               FamilyOptions options) {
    return add<Gauge>(name, help, MetricType::gauge, std::move(labels), options, {});
}

Family<Histogram>& Registry::histogram(std::string_view name, std::string_view help, std::vector<std::string> labels,
                                       std::vector<double> bounds, FamilyOptions options) {
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (!std::isfinite(bounds[i]) || (i != 0 && bounds[i] <= bounds[i - 1]))
            throw std::invalid_argument("metric '" + std::string(name) + "': bucket bound " + std::to_string(i) +
                                        " is not finite and above the one before");
    }
    return add<Histogram>(name, help, MetricType::histogram, std::move(labels), options,
                          {std::make_shared<const std::vector<double>>(std::move(bounds))});
}

std::uint64_t Registry::add_collector(std::function<void()> collect) {
    const std::lock_guard lock(collect_mutex_);
    const std::uint64_t id = next_collector_++;
    collectors_.emplace_back(id, std::move(collect));
    return id;
}

void Registry::remove_collector(std::uint64_t id) {
    const std::lock_guard lock(collect_mutex_);
    std::erase_if(collectors_, [id](const auto& c) { return c.first == id; });
}

std::string Registry::expose() const {
    const std::lock_guard collecting(collect_mutex_);
    for (const auto& [id, collect] : collectors_) collect();
    std::string out;
    const std::lock_guard lock(mutex_);
    for (const auto& f : families_) f->expose(out);
    return out;
}

}  // namespace txflow::observe
