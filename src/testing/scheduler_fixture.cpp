// SchedulerFixture: a scheduler on a manual clock, moved from due instant to
// due instant.

#include "txflow/testing/scheduler_fixture.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "txflow/store/memory_store.hpp"
#include "txflow/store/wal_store.hpp"
#include "txflow/testing/time.hpp"

namespace txflow::testing {

using std::chrono::milliseconds;

namespace {

bool ended(saga::State s) {
    return s == saga::State::succeeded || s == saga::State::compensated || s == saga::State::compensation_failed;
}

}  // namespace

SchedulerFixture::SchedulerFixture() : SchedulerFixture(FixtureOptions{}) {}

SchedulerFixture::SchedulerFixture(FixtureOptions options)
    : options_(std::move(options)), clock_(wall_time(options_.start, options_.zone)) {
    open_store();
    build();
}

// The scheduler goes first: its runs may still use the store and the listener.
SchedulerFixture::~SchedulerFixture() {
    scheduler_.reset();
}

void SchedulerFixture::open_store() {
    if (options_.store == StoreKind::memory) {
        if (!store_) store_ = std::make_shared<store::MemoryStore>();
        return;
    }
    if (!wal_dir_) wal_dir_ = std::make_unique<TempDir>("testkit-wal");
    store_.reset();  // the old WalStore closes its files before the new one opens them
    auto wal = store::WalStore::open(store::WalOptions{.dir = wal_dir_->path()});
    if (!wal) throw std::runtime_error("SchedulerFixture: cannot open the WAL: " + wal.error().message);
    store_ = std::move(*wal);
}

void SchedulerFixture::build() {
    SchedulerOptions o = options_.scheduler;
    o.clock(clock_).store(store_).seed(options_.seed).listener(events_);
    if (options_.logger) {
        o.logger(options_.logger);
    } else {
        const auto sink = options_.log_to_stderr
                              ? spdlog::sink_ptr(std::make_shared<spdlog::sinks::stderr_color_sink_mt>())
                              : spdlog::sink_ptr(std::make_shared<spdlog::sinks::null_sink_mt>());
        o.logger(std::make_shared<spdlog::logger>("txflow-test", sink));
    }
    scheduler_ = std::make_unique<Scheduler>(std::move(o));
    for (const auto& registration : registrations_) registration(*scheduler_);
}

void SchedulerFixture::setup(Registration registration) {
    registration(*scheduler_);
    registrations_.push_back(std::move(registration));
}

void SchedulerFixture::start() {
    scheduler_->start();
    scheduler_->wait_idle();
}

void SchedulerFixture::settle() {
    scheduler_->wait_idle();
}

void SchedulerFixture::advance(milliseconds d) {
    advance_to(clock_.wall_now() + d);
}

void SchedulerFixture::advance_to(std::string_view text, std::string_view zone) {
    advance_to(wall_time(text, zone));
}

void SchedulerFixture::advance_to(WallTime when) {
    start();
    while (hop(when)) {
    }
}

// One hop per due instant: waiting until idle at each one lets every run due
// there end (and arm what follows it) before time moves on, which is what
// keeps fires in order. Hops are whole milliseconds, the clock's resolution.
bool SchedulerFixture::hop(WallTime until) {
    const WallTime now_w = clock_.wall_now();
    if (now_w >= until) return false;
    milliseconds step = until - now_w;
    if (const auto due = scheduler_->next_due())
        step = std::clamp(std::chrono::ceil<milliseconds>(*due - clock_.steady_now()), milliseconds{1}, step);
    clock_.advance(step);
    scheduler_->wait_idle();
    return true;
}

void SchedulerFixture::restart(milliseconds down, Registration replace) {
    scheduler_.reset();
    if (down > milliseconds{0}) clock_.advance(down);
    if (replace) registrations_ = {std::move(replace)};
    open_store();
    build();
    start();
}

std::size_t SchedulerFixture::fired(std::string_view job) const {
    return fires_of(job).size();
}

std::vector<WallTime> SchedulerFixture::fires_of(std::string_view job) const {
    std::vector<WallTime> out;
    for (const auto& e : events_->of(EventKind::started, job))
        if (e.attempt == 1) out.push_back(e.fire_time);
    return out;
}

Outcome SchedulerFixture::last_outcome(std::string_view job) const {
    const auto finished = events_->of(EventKind::finished, job);
    return finished.empty() ? Outcome::none : finished.back().outcome;
}

saga::Info SchedulerFixture::run_saga(const SagaRef& saga, nlohmann::json input, std::string idempotency_key,
                                      milliseconds limit) {
    start();
    const auto handle = scheduler_->start_saga(saga, std::move(input), std::move(idempotency_key));
    auto info = finish_saga(handle.id(), limit);
    if (!info) throw std::logic_error("SchedulerFixture::run_saga: saga " + handle.id() + " vanished");
    return *info;
}

std::optional<saga::Info> SchedulerFixture::finish_saga(std::string_view id, milliseconds limit) {
    start();
    const WallTime until = clock_.wall_now() + limit;
    for (;;) {
        auto info = scheduler_->saga(id);
        if (!info || ended(info->state) || !hop(until)) return info;
    }
}

atomic::Info SchedulerFixture::run_atomic(const AtomicRef& txn, nlohmann::json input, std::string idempotency_key,
                                          milliseconds limit) {
    start();
    const auto id = scheduler_->start_atomic(txn, std::move(input), std::move(idempotency_key));
    auto info = finish_atomic(id, limit);
    if (!info) throw std::logic_error("SchedulerFixture::run_atomic: transaction " + id + " vanished");
    return *info;
}

std::optional<atomic::Info> SchedulerFixture::finish_atomic(std::string_view id, milliseconds limit) {
    start();
    const WallTime until = clock_.wall_now() + limit;
    for (;;) {
        auto info = scheduler_->transaction(id);
        const bool ended = info && (atomic::is_final(info->state) || info->state == atomic::State::commit_stalled);
        if (!info || ended || !hop(until)) return info;
    }
}

}  // namespace txflow::testing
