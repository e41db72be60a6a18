// read_state_dir(): Journal::load() (the scheduler's own replay into a
// LiveState) over a Store that only reads the directory.

#include "txflow/store/state_dir.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "store/journal.hpp"
#include "store/wal_format.hpp"
#include "store/wal_log.hpp"

namespace txflow::store {
namespace {

namespace fs = std::filesystem;

// Reads a WAL directory the way WalStore::inspect and read_dir do; refuses writes.
class ReadOnlyWalDir final : public Store {
public:
    ReadOnlyWalDir(fs::path dir, const RecoveryReport& report) : dir_(std::move(dir)), report_(report) {}

    StoreResult<std::uint64_t> submit(std::uint16_t /*type*/, std::string_view /*payload*/) override {
        return unexpected(read_only());
    }
    StoreResult<Ok> sync(std::uint64_t /*seq*/) override { return unexpected(read_only()); }
    StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const Record&)>& visit) override {
        return WalStore::read_dir(dir_, after, visit);
    }
    StoreResult<std::optional<Snapshot>> load_snapshot() override {
        if (!report_.snapshot_seq) return std::optional<Snapshot>();
        auto snapshot = wal::read_snapshot_file(dir_ / wal::snapshot_file_name(*report_.snapshot_seq));
        if (!snapshot) return unexpected(std::move(snapshot.error()));
        return std::optional<Snapshot>(std::move(*snapshot));
    }
    StoreResult<Ok> write_snapshot(std::uint64_t /*seq*/, std::string_view /*state*/) override {
        return unexpected(read_only());
    }
    [[nodiscard]] std::uint64_t last_seq() const override { return report_.last_seq; }
    [[nodiscard]] std::uint64_t bytes_since_snapshot() const override { return 0; }

private:
    static StoreError read_only() {
        return StoreError{StoreError::Code::invalid, "the state directory is read-only here"};
    }

    fs::path dir_;
    const RecoveryReport& report_;
};

WallTime from_ms(std::int64_t ms) {
    return WallTime{std::chrono::milliseconds{ms}};
}

bool action_completed(saga::State step) {
    return step == saga::State::succeeded || step == saga::State::compensating || step == saga::State::compensated ||
           step == saga::State::compensation_failed;
}

SagaSummary summarize(const LiveSaga& s) {
    SagaSummary out{s.id, s.definition, s.state, 0, s.steps.size(), s.error, from_ms(s.updated_ms)};
    const LiveStep* latest_failure = nullptr;
    for (const LiveStep& step : s.steps) {
        if (action_completed(step.state)) ++out.steps_done;
        if (!step.last_error.empty() && (latest_failure == nullptr || step.started_ms >= latest_failure->started_ms))
            latest_failure = &step;
    }
    if (out.last_error.empty() && latest_failure != nullptr) out.last_error = latest_failure->last_error;
    return out;
}

TransactionSummary summarize(const LiveAtomic& a) {
    TransactionSummary out{a.id, a.definition, {}, 0, a.participants.size(), a.reason, from_ms(a.updated_ms)};
    for (bool acked : a.acked) out.acked += acked ? 1 : 0;
    const bool all = out.acked == out.participants;
    switch (a.decision) {
        case LiveAtomic::Decision::none: out.state = "preparing"; break;
        case LiveAtomic::Decision::commit: out.state = all ? "committed" : "committing"; break;
        case LiveAtomic::Decision::abort: out.state = all ? "aborted" : "aborting"; break;
    }
    // atomic_stalled: a participant not acked since shows commit_stalled, with its last error.
    for (std::size_t i = 0; i < a.stalled_attempts.size(); ++i) {
        if (a.stalled_attempts[i] == 0 || a.acked[i] || a.decision != LiveAtomic::Decision::commit) continue;
        out.state = "commit_stalled";
        out.reason = fmt::format("participant '{}': {}", a.participants[i], a.last_errors[i]);
    }
    return out;
}

}  // namespace

StoreResult<StateDirView> read_state_dir(const fs::path& dir) {
    auto inspection = WalStore::inspect(dir);
    if (!inspection) return unexpected(std::move(inspection.error()));
    if (inspection->corruption) return unexpected(wal::corrupt_error(*inspection->corruption));

    StateDirView view;
    view.log = std::move(inspection->report);
    Journal journal(std::make_shared<ReadOnlyWalDir>(dir, view.log));
    if (auto loaded = journal.load(); !loaded) return unexpected(std::move(loaded.error()));
    const LiveState& state = journal.state();

    for (const auto& [id, saga] : state.sagas) view.sagas.push_back(summarize(saga));
    std::sort(view.sagas.begin(), view.sagas.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (const auto& [id, a] : state.atomics) view.transactions.push_back(summarize(a));  // a std::map: by id
    for (const auto& [id, d] : state.dead_letters)
        view.dead_letters.push_back({d.id, d.job, from_ms(d.fire_ms), d.attempts, d.error, from_ms(d.failed_ms)});
    for (const auto& [job, ms] : state.last_fire_ms) view.last_fire.emplace(job, from_ms(ms));
    for (const auto& [id, r] : state.retries)
        view.retries.push_back({r.job, from_ms(r.fire_ms), r.attempt, from_ms(r.due_ms)});
    return view;
}

}  // namespace txflow::store
