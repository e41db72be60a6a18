// The schedule-file daemon: a ScheduleFile turned into scheduler jobs and
// saga definitions whose work is commands, an event listener that logs, and
// reloads that change only what changed.

#include "txflow/daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command_jobs.hpp"
#include "log.hpp"
#include "preflight.hpp"
#include "schedule_file/to_library.hpp"
#include "sd_notify.hpp"
#include "txflow/daemon/safety.hpp"
#include "txflow/store/memory_store.hpp"
#include "txflow/store/wal_store.hpp"

namespace txflow::daemon {
namespace {

using detail::log_with;
using detail::LogFields;
using schedule_file::Command;
using schedule_file::Overlap;
using schedule_file::StepSpec;
using schedule_file::TriggerKind;
using spdlog::level::level_enum;
using std::chrono::milliseconds;

std::string seconds_text(std::chrono::nanoseconds d) {
    return fmt::format("{:.3f}s", std::chrono::duration<double>(d).count());
}

// Scheduler events as log lines. Failed attempts, dead letters, stuck jobs
// and breaker changes the scheduler logs itself.
class EventLogger final : public Listener {
public:
    explicit EventLogger(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

    void on_event(const Event& e) override {
        LogFields job{};
        job.job = e.job;
        switch (e.kind) {
            case EventKind::started:
                if (e.attempt > 1) log_with(*log_, level_enum::info, job, fmt::format("attempt {} started", e.attempt));
                else log_with(*log_, level_enum::info, job, "started");
                break;
            case EventKind::finished:
                if (e.outcome == Outcome::succeeded) {
                    log_with(*log_, level_enum::info, job, fmt::format("succeeded in {}", seconds_text(e.duration)));
                } else if (e.outcome == Outcome::cancelled) {
                    log_with(*log_, level_enum::warn, job, "cancelled");
                } else if (e.outcome == Outcome::skipped) {
                    log_with(*log_, level_enum::info, job,
                             fmt::format("skipped: {}", e.error.empty() ? e.detail : e.error));
                }
                break;
            case EventKind::retrying:
                log_with(
                    *log_, level_enum::warn, job,
                    fmt::format("retrying in {} (attempt {})", schedule_file::format_duration(e.delay), e.attempt));
                break;
            case EventKind::misfired:
                log_with(*log_, level_enum::warn, job, fmt::format("missed {} fire(s)", e.count));
                break;
            case EventKind::skipped:
                log_with(*log_, level_enum::info, job,
                         fmt::format("skipped {} fire(s){}{}", e.count, e.detail.empty() ? "" : ": ", e.detail));
                break;
            case EventKind::saga: {
                LogFields saga{};
                saga.saga_id = e.job;
                const level_enum level = e.error.empty() ? level_enum::info : level_enum::warn;
                log_with(
                    *log_, level, saga,
                    e.error.empty() ? fmt::format("saga {}", e.detail) : fmt::format("saga {}: {}", e.detail, e.error));
                break;
            }
            case EventKind::alert: {
                LogFields saga{};
                saga.saga_id = e.job;
                log_with(*log_, level_enum::critical, saga,
                         fmt::format("needs an operator: {}{}{}", e.detail, e.error.empty() ? "" : ": ", e.error));
                break;
            }
            default: break;
        }
    }

private:
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

// ---------------------------------------------------------------- Daemon

Daemon::Daemon(Private, ScheduleFile file, DaemonOptions options)
    : file_(std::move(file)), options_(std::move(options)) {}

Daemon::~Daemon() {
    if (started_ && !stopped_) stop(milliseconds{0});
}

Result<std::unique_ptr<Daemon>, Problems> Daemon::create(ScheduleFile file, DaemonOptions options) {
    auto daemon = std::make_unique<Daemon>(Private{}, std::move(file), std::move(options));
    Daemon& d = *daemon;
    const ScheduleFile& f = d.file_;
    d.logger_ =
        d.options_.logger ? d.options_.logger : make_logger(d.options_.log_format.value_or(f.log.format), f.log.level);

    d.store_ = d.options_.store;
    if (!d.store_ && !f.state_dir.empty()) {
        store::WalOptions wal;
        wal.dir = f.state_dir;
        auto opened = store::WalStore::open(std::move(wal));
        if (!opened) {
            return unexpected(Problems{{"/state_dir", fmt::format("cannot open the state directory \"{}\": {}",
                                                                  f.state_dir, opened.error().message)}});
        }
        const auto& report = (*opened)->recovery_report();
        if (report.torn_tail) {
            d.logger_->warn("state: dropped a torn write at the end of the log ({}): the process stopped mid-write",
                            report.torn_tail->reason);
        }
        d.logger_->info("state: {} ({} record(s) recovered)", f.state_dir, report.records);
        d.store_ = std::shared_ptr<store::WalStore>(std::move(*opened));
    }
    if (!d.store_) d.store_ = std::make_shared<store::MemoryStore>();

    auto settings = detail::run_settings(f);
    if (!settings) return unexpected(std::move(settings.error()));
    d.settings_ = std::make_shared<detail::SharedSettings>(std::move(*settings));

    SchedulerOptions so;
    if (f.workers) so.workers(*f.workers);
    for (const auto& [name, limit] : f.queues) so.queue(name, limit);
    so.logger(d.logger_);
    so.listener(std::make_shared<EventLogger>(d.logger_));
    so.store(d.store_);
    if (d.options_.metrics) so.metrics(d.options_.metrics);
    for (const auto& l : d.options_.listeners) so.listener(l);
    if (d.options_.tracer) so.tracer(d.options_.tracer);
    // A command asked to stop gets SIGTERM, then SIGKILL after kill_grace:
    // stop() waits that long for it before reporting it still running.
    so.stop_grace(d.options_.kill_grace + std::chrono::seconds(1));
    if (d.options_.clock != nullptr) so.clock(*d.options_.clock);
    d.scheduler_ = std::make_unique<Scheduler>(std::move(so));

    Problems problems;
    for (std::size_t i = 0; i < f.sagas.size(); ++i) {
        auto def = d.build_saga(f.sagas[i], i);
        if (!def) {
            problems.insert(problems.end(), def.error().begin(), def.error().end());
            continue;
        }
        d.scheduler_->register_saga(*def);
        d.sagas_[f.sagas[i].name] = *def;
    }
    for (std::size_t i = 0; i < f.transactions.size(); ++i) {
        auto def = d.build_transaction(f.transactions[i], i);
        if (!def) {
            problems.insert(problems.end(), def.error().begin(), def.error().end());
            continue;
        }
        d.scheduler_->register_atomic(*def);  // before start(): recovery finishes what a crash left
        d.transactions_[f.transactions[i].name] = *def;
    }
    if (!problems.empty()) return unexpected(std::move(problems));
    for (std::size_t i = 0; i < f.jobs.size(); ++i) {
        try {
            d.add_job(f.jobs[i]);
        } catch (const std::exception& e) {
            problems.push_back({fmt::format("/jobs/{}", i), e.what()});
        }
    }
    if (!problems.empty()) return unexpected(std::move(problems));
    return daemon;
}

Result<SagaRef, Problems> saga_definition(const SagaSpec& spec, std::size_t index,
                                          const std::function<saga::StepFunction(const Command&)>& command) {
    std::vector<saga::Step> steps;
    steps.reserve(spec.steps.size());
    for (const auto& s : spec.steps) {
        saga::Step step;
        step.name = s.name;
        step.action = command(s.command);
        if (s.compensate) step.compensation = command(*s.compensate);
        step.no_compensation = s.no_compensation;
        step.timeout = s.timeout;
        if (s.retry) step.retry = schedule_file::to_policy(*s.retry);
        steps.push_back(std::move(step));
    }
    saga::Options options;
    options.on_recovery = schedule_file::to_recovery(spec.on_recovery);
    options.priority = spec.priority;
    options.queue = spec.queue;
    auto def = saga::Definition::create(spec.name, std::move(steps), std::move(options));
    if (!def) {
        std::string pointer = fmt::format("/sagas/{}", index);
        return unexpected(Problems{{std::move(pointer), def.error().to_string(spec.name)}});
    }
    return *def;
}

Problems saga_warnings(const saga::Definition& definition, const SagaSpec& spec, std::size_t index) {
    Problems out;
    for (const auto& w : definition.warnings()) {
        std::string pointer = fmt::format("/sagas/{}", index);
        for (std::size_t n = 0; n < spec.steps.size(); ++n)
            if (spec.steps[n].name == w.step) pointer = fmt::format("/sagas/{}/steps/{}", index, n);
        out.push_back({std::move(pointer), fmt::format("step '{}' {}", w.step, w.message)});
    }
    return out;
}

Result<SagaRef, Problems> Daemon::build_saga(const SagaSpec& spec, std::size_t index) const {
    return saga_definition(spec, index,
                           [&](const Command& c) { return detail::command_step(spec.name, c, command_context()); });
}

Result<AtomicRef, Problems> Daemon::build_transaction(const schedule_file::TransactionSpec& spec,
                                                      std::size_t index) const {
    std::vector<atomic::Participant> participants;
    participants.reserve(spec.participants.size());
    for (const auto& p : spec.participants)
        participants.push_back(detail::command_participant(spec.name, p, command_context()));
    atomic::Options options;
    if (spec.prepare_timeout) options.prepare_timeout = *spec.prepare_timeout;
    if (spec.stall_after) options.stall_after_attempts = *spec.stall_after;
    auto def = atomic::Definition::create(spec.name, std::move(participants), std::move(options));
    if (!def) return unexpected(Problems{{fmt::format("/transactions/{}", index), def.error().to_string(spec.name)}});
    return *def;
}

void Daemon::add_job(const JobSpec& job) {
    JobBuilder b = scheduler_->job(job.name);
    switch (job.trigger) {
        case TriggerKind::cron:
            b.cron(job.cron);
            if (!job.zone.empty()) b.in_zone(job.zone);
            break;
        case TriggerKind::every: b.every(job.every); break;
        case TriggerKind::at: b.at(job.at); break;
    }
    b.priority(job.priority);
    if (!job.queue.empty()) b.queue(job.queue);
    if (job.jitter.count() > 0) b.jitter(job.jitter);
    if (job.preemptible) b.preemptible();
    if (!job.traceparent.empty()) b.trace_parent(job.traceparent, job.tracestate);
    if (job.misfire) b.misfire(schedule_file::to_misfire(*job.misfire));
    // Policies, outermost first: overlap, breaker, retry, then the timeout of
    // each attempt (docs/schedule-format.md).
    if (job.overlap == Overlap::skip) b.skip_if_running();
    if (job.overlap == Overlap::delay) b.delay_if_running();
    if (job.breaker) b.circuit_breaker(job.breaker->name, schedule_file::to_options(job.breaker->options));
    if (job.retry) b.retry(schedule_file::to_policy(*job.retry));
    if (job.timeout) b.timeout(*job.timeout);
    if (job.command) {
        b.run(detail::command_job(job.name, *job.command, command_context()));
    } else if (!job.transaction.empty()) {
        const auto it = transactions_.find(job.transaction);
        if (it == transactions_.end())
            throw ScheduleError(fmt::format("job '{}': no transaction named '{}'", job.name, job.transaction));
        // One transaction a fire, keyed "<job>@<fire time>" like a saga job's
        // instance: a fire run again after a crash finds the one it started.
        b.run([scheduler = scheduler_.get(), def = it->second, input = job.input](JobContext& ctx) {
            scheduler->start_atomic(
                def, input,
                fmt::format("{}@{}", ctx.job_name(), cron::to_rfc3339(ctx.scheduled_time(), cron::Zone::utc())));
        });
    } else {
        const auto it = sagas_.find(job.saga);
        if (it == sagas_.end()) throw ScheduleError(fmt::format("job '{}': no saga named '{}'", job.name, job.saga));
        b.run(it->second, job.input);
    }
}

detail::CommandContext Daemon::command_context() const {
    return detail::CommandContext{logger_, options_.kill_grace, settings_};
}

void Daemon::warn_root() {
    const auto as_root = detail::root_commands(file_);
    if (as_root.empty()) return;
    logger_->warn(
        "the daemon runs as root and {} command(s) have no \"user\", so they run as root: {} (set \"user\" on "
        "them, or a default \"user\" at the top of the schedule file)",
        as_root.size(), fmt::join(as_root, ", "));
}

void Daemon::start() {
    if (started_) return;
    started_ = true;
    warn_root();
    scheduler_->start();
    logger_->info("running {}: {} job(s), {} saga(s)", file_.path.empty() ? "schedule" : file_.path.string(),
                  file_.jobs.size(), file_.sagas.size());
    // create() recovered the state directory: now the service is up.
    (void)detail::notify(
        fmt::format("READY=1\nSTATUS=running {} job(s), {} saga(s)", file_.jobs.size(), file_.sagas.size()));
    if (const auto interval = detail::watchdog_interval()) watchdog_ = std::make_unique<detail::Watchdog>(*interval);
}

void Daemon::log(std::string_view message) {
    logger_->info("{}", message);
}

void Daemon::log_problems(const Problems& problems, std::string_view what) {
    logger_->error("{}: {} problem(s); the running schedule is kept", what, problems.size());
    for (const auto& p : problems) logger_->error("{}", p.to_string());
}

Result<ReloadReport, Problems> Daemon::reload(const std::filesystem::path& path) {
    // systemd: RELOADING=1 now, READY=1 when done, whether the new file was applied or refused.
    (void)detail::notify("RELOADING=1");
    struct ReadyAgain {
        ReadyAgain() = default;
        ReadyAgain(const ReadyAgain&) = delete;
        ReadyAgain& operator=(const ReadyAgain&) = delete;
        ~ReadyAgain() { (void)detail::notify("READY=1"); }
    } ready_again;
    if (auto why = unsafe_schedule_file(path)) {
        Problems problems{{"", std::move(*why)}};
        log_problems(problems, fmt::format("reload of {} refused", path.string()));
        return unexpected(std::move(problems));
    }
    auto next = schedule_file::load_file(path);
    if (!next) {
        log_problems(next.error(), fmt::format("reload of {} refused", path.string()));
        return unexpected(std::move(next.error()));
    }
    return apply(std::move(*next));
}

Result<ReloadReport, Problems> Daemon::apply(ScheduleFile next) {
    ReloadReport report;
    if (next.workers != file_.workers) report.needs_restart.emplace_back("workers");
    if (next.queues != file_.queues) report.needs_restart.emplace_back("queues");
    if (next.state_dir != file_.state_dir) report.needs_restart.emplace_back("state_dir");
    if (!options_.logger && !options_.log_format && next.log.format != file_.log.format)
        report.needs_restart.emplace_back("log.format");
    // Secrets are read again and users checked again: a refusal keeps the running schedule.
    auto settings = detail::run_settings(next);
    if (!settings) {
        log_problems(settings.error(), "reload refused");
        return unexpected(std::move(settings.error()));
    }
    if (!options_.logger && next.log.level != file_.log.level)
        logger_->set_level(spdlog::level::from_str(next.log.level));

    // Build every new or changed saga before touching anything: a refused
    // definition leaves the running schedule as it was.
    std::map<std::string, SagaRef, std::less<>> changed;
    Problems problems;
    for (std::size_t i = 0; i < next.sagas.size(); ++i) {
        const SagaSpec& s = next.sagas[i];
        const SagaSpec* old = file_.find_saga(s.name);
        if (old != nullptr && file_.canonical(*old) == next.canonical(s)) continue;
        auto def = build_saga(s, i);
        if (!def) problems.insert(problems.end(), def.error().begin(), def.error().end());
        else changed[s.name] = *def;
    }
    std::map<std::string, AtomicRef, std::less<>> changed_transactions;
    for (std::size_t i = 0; i < next.transactions.size(); ++i) {
        const auto& t = next.transactions[i];
        const auto* old = file_.find_transaction(t.name);
        if (old != nullptr && file_.canonical(*old) == next.canonical(t)) continue;
        auto def = build_transaction(t, i);
        if (!def) problems.insert(problems.end(), def.error().begin(), def.error().end());
        else changed_transactions[t.name] = *def;
    }
    // Breakers are shared by name and live as long as the scheduler: one
    // cannot be redefined while it runs.
    for (std::size_t i = 0; i < next.jobs.size(); ++i) {
        const auto& b = next.jobs[i].breaker;
        if (!b) continue;
        const auto existing = std::as_const(*scheduler_).breaker(b->name);
        if (existing && !(existing->options() == schedule_file::to_options(b->options))) {
            problems.push_back(
                {fmt::format("/jobs/{}/policies/breaker", i),
                 fmt::format("breaker '{}' is running with other options; they change at a restart", b->name)});
        }
    }
    if (!problems.empty()) {
        log_problems(problems, "reload refused");
        return unexpected(std::move(problems));
    }
    for (auto& [name, def] : changed) {
        scheduler_->register_saga(def);
        sagas_[name] = def;
        report.sagas_changed.push_back(name);
    }
    for (auto it = sagas_.begin(); it != sagas_.end();) {
        if (next.find_saga(it->first) == nullptr) it = sagas_.erase(it);
        else ++it;
    }
    for (auto& [name, def] : changed_transactions) {
        scheduler_->register_atomic(def);
        transactions_[name] = def;
        report.transactions_changed.push_back(name);
    }
    for (auto it = transactions_.begin(); it != transactions_.end();) {
        if (next.find_transaction(it->first) == nullptr) it = transactions_.erase(it);
        else ++it;
    }

    for (const auto& old : file_.jobs) {
        if (next.find_job(old.name) != nullptr) continue;
        if (auto h = scheduler_->find(old.name)) h->remove();
        report.removed.push_back(old.name);
    }
    for (const auto& job : next.jobs) {
        const JobSpec* old = file_.find_job(job.name);
        if (old != nullptr && file_.canonical(*old) == next.canonical(job)) {
            report.unchanged.push_back(job.name);
            continue;
        }
        if (old != nullptr) {
            if (auto h = scheduler_->find(job.name)) h->remove();
        }
        try {
            add_job(job);
            (old != nullptr ? report.replaced : report.added).push_back(job.name);
        } catch (const std::exception& e) {
            logger_->error("reload: job '{}' could not be added: {}", job.name, e.what());
        }
    }
    if (next.path.empty()) next.path = file_.path;
    file_ = std::move(next);
    settings_->set(std::move(*settings));
    warn_root();

    const auto names = [](const std::vector<std::string>& v) {
        return v.empty() ? std::string("-") : fmt::format("{}", fmt::join(v, ", "));
    };
    logger_->info("reloaded {}: added {}; removed {}; replaced {}; {} unchanged",
                  file_.path.empty() ? "schedule" : file_.path.string(), names(report.added), names(report.removed),
                  names(report.replaced), report.unchanged.size());
    if (!report.needs_restart.empty())
        logger_->warn("reload: changes to {} take effect after a restart", fmt::join(report.needs_restart, ", "));
    return report;
}

StopReport Daemon::stop(milliseconds drain) {
    if (stopped_) return {};
    stopped_ = true;
    logger_->info("stopping: draining for up to {}", schedule_file::format_duration(drain));
    (void)detail::notify("STOPPING=1");
    StopReport report = scheduler_->stop(drain);
    watchdog_.reset();  // pinged through the drain, which may outlast WatchdogSec/2
    if (report.drained) {
        logger_->info("stopped");
    } else {
        const auto list = [](const std::vector<std::string>& jobs) {
            return jobs.empty() ? std::string("none") : fmt::format("{}", fmt::join(jobs, ", "));
        };
        logger_->warn(
            "stopped after the drain deadline: {} stopped on request, {} still running, {} queued run(s) "
            "dropped",
            list(report.stopped_on_request), list(report.still_running), report.dropped_queued);
    }
    return report;
}

}  // namespace txflow::daemon
