// A family's series: lookup by label values, the cardinality cap, exposition.

#include <stdexcept>
#include <string>

#include "observe/exposition.hpp"
#include "txflow/observe/family.hpp"

namespace txflow::observe {

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
                       FamilyOptions options, Counter* dropped)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      options_(options),
      dropped_(dropped) {}

std::size_t FamilyBase::series() const {
    const std::lock_guard lock(mutex_);
    return series_.size();
}

void* FamilyBase::find_or_add(std::span<const std::string_view> values) {
    if (values.size() != label_names_.size()) {
        throw std::invalid_argument(name_ + ": " + std::to_string(values.size()) + " label values for " +
                                    std::to_string(label_names_.size()) + " labels");
    }
    std::string key;
    for (const auto v : values) {
        key += v;
        key += '\0';
    }
    const std::lock_guard lock(mutex_);
    if (auto it = by_values_.find(key); it != by_values_.end()) return it->second;
    if (series_.size() < options_.max_series || values.empty()) return add_locked(std::move(key), values);

    // Over the cap: fold into the series whose overflow label is "other".
    if (dropped_ != nullptr) dropped_->inc();
    std::vector<std::string_view> folded(values.begin(), values.end());
    folded[options_.overflow_label] = kOverflowValue;
    key.clear();
    for (const auto v : folded) {
        key += v;
        key += '\0';
    }
    if (auto it = by_values_.find(key); it != by_values_.end()) return it->second;
    return add_locked(std::move(key), folded);
}

void* FamilyBase::add_locked(std::string key, std::span<const std::string_view> values) {
    std::string labels;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i != 0) labels += ',';
        labels += label_names_[i];
        labels += "=\"";
        detail::append_label_value(labels, values[i]);
        labels += '"';
    }
    void* cell = new_cell();
    series_.push_back({std::move(labels), cell});
    by_values_.emplace(std::move(key), cell);
    return cell;
}

void FamilyBase::expose(std::string& out) const {
    out += "# HELP ";
    out += name_;
    out += ' ';
    detail::append_help(out, help_);
    out += "\n# TYPE ";
    out += name_;
    switch (type_) {
        case MetricType::counter: out += " counter\n"; break;
        case MetricType::gauge: out += " gauge\n"; break;
        case MetricType::histogram: out += " histogram\n"; break;
    }
    const std::lock_guard lock(mutex_);
    for (const Series& s : series_) write_cell(out, s.labels, s.cell);
}

}  // namespace txflow::observe
