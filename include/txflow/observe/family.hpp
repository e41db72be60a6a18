#pragma once
/// @file
/// A metric family: one name, one help text, fixed label names, and one cell
/// per distinct tuple of label values (a "series").
///
///     auto& runs = registry.counter("txflow_job_runs_total", "Runs that ended", {"job", "queue", "outcome"});
///     observe::Counter& ok = runs.with({"report", "default", "succeeded"});  // once: takes the family's lock
///     ok.inc();                                                             // hot path: one atomic add
///
/// Cardinality is bounded: past FamilyOptions::max_series series, a new tuple
/// is folded into one whose `overflow_label` value is "other" (the other values
/// are kept), and txflow_metrics_series_dropped_total{family} counts the fold.
/// The remaining labels must have a small fixed set of values (queue, outcome).

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/observe/counter.hpp"
#include "txflow/observe/gauge.hpp"
#include "txflow/observe/histogram.hpp"

namespace txflow::observe {

/// The Prometheus type of a family.
enum class MetricType : std::uint8_t { counter, gauge, histogram };

/// Per-family cardinality limits (see the file's notes).
struct TXFLOW_EXPORT FamilyOptions {
    std::size_t max_series = 0;      ///< 0: the registry's default (RegistryOptions, 1,000)
    std::size_t overflow_label = 0;  ///< index of the label whose value folds to "other"
};

/// The label value a folded series gets.
inline constexpr std::string_view kOverflowValue = "other";

/// What every Family shares, whatever its cell type: name, help, labels, the series and their lock.
class TXFLOW_EXPORT FamilyBase {
public:
    /// Made by the Registry; `dropped` counts folded series (may be null).
    FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
               FamilyOptions options, Counter* dropped);
    FamilyBase(const FamilyBase&) = delete;
    FamilyBase& operator=(const FamilyBase&) = delete;
    virtual ~FamilyBase() = default;

    /// The metric's name.
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    /// The help text.
    [[nodiscard]] const std::string& help() const noexcept { return help_; }
    /// Counter, gauge or histogram.
    [[nodiscard]] MetricType type() const noexcept { return type_; }
    /// The label names, in order.
    [[nodiscard]] const std::vector<std::string>& label_names() const noexcept { return label_names_; }
    /// Distinct series created so far.
    [[nodiscard]] std::size_t series() const;

    /// Appends the family in the text exposition format 0.0.4 to `out`.
    void expose(std::string& out) const;

protected:
    /// The cell for these label values, created on first use (under the lock).
    /// Throws std::invalid_argument when the number of values is not the number of labels.
    void* find_or_add(std::span<const std::string_view> values);
    virtual void* new_cell() = 0;  ///< called with the lock held
    /// Appends the series line(s) of one cell, with its rendered labels.
    virtual void write_cell(std::string& out, std::string_view labels, const void* cell) const = 0;

private:
    struct Series {
        std::string labels;  ///< rendered: job="a",queue="b"
        void* cell;
    };
    void* add_locked(std::string key, std::span<const std::string_view> values);

    const std::string name_;
    const std::string help_;
    const MetricType type_;
    const std::vector<std::string> label_names_;
    const FamilyOptions options_;
    Counter* const dropped_;  // may be null
    mutable std::mutex mutex_;
    std::vector<Series> series_;                        // creation order
    std::unordered_map<std::string, void*> by_values_;  // key: values joined by '\0'
};

/// A metric family whose cells are Counter, Gauge or Histogram (see the file's notes).
template <class Cell>
class TXFLOW_EXPORT Family final : public FamilyBase {
public:
    /// Made by the Registry (Registry::counter() and the others).
    Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
           FamilyOptions options, Counter* dropped, typename Cell::Config config)
        : FamilyBase(std::move(name), std::move(help), type, std::move(label_names), options, dropped),
          config_(std::move(config)) {}

    /// Keep the reference: it stays valid as long as the registry.
    Cell& with(std::initializer_list<std::string_view> values) {
        return with(std::span<const std::string_view>(values.begin(), values.size()));
    }
    /// The cell for these label values, created on first use; keep the reference.
    Cell& with(std::span<const std::string_view> values) { return *static_cast<Cell*>(find_or_add(values)); }

private:
    void* new_cell() override { return cells_.emplace_back(std::make_unique<Cell>(config_)).get(); }
    void write_cell(std::string& out, std::string_view labels, const void* cell) const override;

    typename Cell::Config config_;
    std::vector<std::unique_ptr<Cell>> cells_;
};

/// The series line of a counter cell, for Family::expose() (src/observe/exposition.cpp).
TXFLOW_EXPORT void write_series(std::string& out, std::string_view name, std::string_view labels, const Counter& cell);
/// The series line of a gauge cell.
TXFLOW_EXPORT void write_series(std::string& out, std::string_view name, std::string_view labels, const Gauge& cell);
/// The series lines of a histogram cell (buckets, sum, count).
TXFLOW_EXPORT void write_series(std::string& out, std::string_view name, std::string_view labels,
                                const Histogram& cell);

template <class Cell>
void Family<Cell>::write_cell(std::string& out, std::string_view labels, const void* cell) const {
    write_series(out, name(), labels, *static_cast<const Cell*>(cell));
}

}  // namespace txflow::observe
