// CronLeader: options, registration and one tick (connect, lease, fires).

#include <unistd.h>

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/cron_leader_impl.hpp"
#include "store/pg/migrations.hpp"
#include "txflow/cron/parse_error.hpp"

namespace txflow::cluster {

using std::chrono::milliseconds;
using store::Ok;
using store::StoreError;
using store::StoreResult;

namespace {

StoreError invalid(std::string message) {
    return StoreError{StoreError::Code::invalid, std::move(message)};
}

std::string default_node() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "node");
    std::random_device rd;
    return fmt::format("{}-{}-{:08x}", host, ::getpid(), rd());
}

StoreResult<Ok> check_options(const CronLeaderOptions& o) {
    const auto bad = [](std::string why) { return unexpected(invalid("cron leader: " + std::move(why))); };
    if (o.election.empty()) return bad("election needs a name");
    if (o.lease < milliseconds{100})
        return bad(fmt::format("lease must be at least 100 ms, not {} ms", o.lease.count()));
    if (o.renew_every.count() < 0 || o.renew_every >= o.lease)
        return bad(fmt::format("renew_every ({} ms) must be shorter than the lease ({} ms)", o.renew_every.count(),
                               o.lease.count()));
    if (o.statement_timeout.count() < 0 || o.statement_timeout >= o.lease)
        return bad(fmt::format("statement_timeout ({} ms) must be shorter than the lease ({} ms)",
                               o.statement_timeout.count(), o.lease.count()));
    if (o.poll < milliseconds{1}) return bad("poll must be at least 1 ms");
    if (o.misfire_grace.count() < 0) return bad("misfire_grace must not be negative");
    if (o.reconnect_min < milliseconds{1} || o.reconnect_max < o.reconnect_min)
        return bad("reconnect_min must be at least 1 ms and at most reconnect_max");
    return Ok{};
}

StoreResult<cron::Schedule> check_schedule(const CronSchedule& s) {
    const auto bad = [&](std::string why) {
        return unexpected(invalid(fmt::format("cron schedule \"{}\": {}", s.name, std::move(why))));
    };
    if (s.name.empty()) return unexpected(invalid("cron schedule: a schedule needs a name"));
    auto parsed = cron::parse(s.expression);
    if (!parsed) return bad(fmt::format("bad expression \"{}\": {}", s.expression, parsed.error().message()));
    cron::Schedule schedule = *parsed;
    if (!s.zone.empty()) {
        const cron::Zone* zone = cron::Zone::find(s.zone);
        if (zone == nullptr) return bad(fmt::format("unknown time zone \"{}\"", s.zone));
        schedule = schedule.in_zone(*zone);
    }
    if (s.job.kind.empty()) return bad("the job needs a kind");
    if (s.job.options.max_attempts < 1)
        return bad(fmt::format("max_attempts must be at least 1, not {}", s.job.options.max_attempts));
    if (s.job.options.unique_key)
        return bad("the job's unique_key is the leader's (\"cron:<schedule>:<fire_at>\"): leave it unset");
    if (s.job.options.run_at) return bad("the job's run_at is the leader's (due at the fire): leave it unset");
    return schedule;
}

}  // namespace

CronLeader::Impl::Impl(CronLeaderOptions o, Clock* c)
    : options(std::move(o)),
      clock(c),
      log(options.logger ? options.logger : spdlog::default_logger()),
      lease(options.pg.schema, options.election, options.node, options.lease),
      fires(options.pg.schema),
      backoff(options.reconnect_min) {
    if (options.metrics) metrics = std::make_unique<LeaderMetrics>(*options.metrics, options.election);
}

StoreResult<std::unique_ptr<CronLeader>> CronLeader::open(CronLeaderOptions options) {
    if (auto ok = check_options(options); !ok) return unexpected(std::move(ok.error()));
    if (auto ok = store::pg::check_schema_name(options.pg.schema); !ok) return unexpected(std::move(ok.error()));
    if (options.node.empty()) options.node = default_node();
    if (options.renew_every.count() == 0) options.renew_every = options.lease / 3;
    if (options.statement_timeout.count() == 0) options.statement_timeout = options.lease / 4;
    Clock* clock = options.clock ? options.clock : &RealClock::instance();
    auto impl = std::make_unique<Impl>(std::move(options), clock);
    if (auto ok = impl->connect(); !ok) return unexpected(std::move(ok.error()));
    return std::unique_ptr<CronLeader>(new CronLeader(std::move(impl)));
}

CronLeader::CronLeader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StoreResult<Ok> CronLeader::add(CronSchedule schedule) {
    auto parsed = check_schedule(schedule);
    if (!parsed) return unexpected(std::move(parsed.error()));
    const std::lock_guard lock(impl_->tick_mutex);
    for (const auto& s : impl_->schedules) {
        if (s.def.name == schedule.name)
            return unexpected(invalid(fmt::format("cron schedule \"{}\": added twice", schedule.name)));
    }
    impl_->schedules.push_back(RegisteredSchedule{std::move(schedule), *parsed, std::nullopt});
    return Ok{};
}

StoreResult<CronTick> CronLeader::tick() {
    return impl_->tick();
}

bool CronLeader::is_leader() const {
    if (!impl_->leader.load()) return false;
    return impl_->bypass.load() || !impl_->lease_may_have_lapsed();
}

std::int64_t CronLeader::epoch() const {
    return impl_->epoch.load();
}

const std::string& CronLeader::node() const {
    return impl_->options.node;
}

void CronLeader::set_bypass_lease_for_testing(bool bypass) {
    const std::lock_guard lock(impl_->tick_mutex);
    const bool was = impl_->bypass.exchange(bypass);
    if (bypass) impl_->leader.store(true);
    else if (was) impl_->step_down("lease bypass ended");
}

// ---- one tick

StoreResult<Ok> CronLeader::Impl::connect() {
    auto opened = store::pg::Connection::open(options.pg);
    StoreResult<Ok> ok = Ok{};
    if (!opened) ok = unexpected(std::move(opened.error()));
    else if (auto schema = store::pg::ensure_schema(*opened, options.pg); !schema) ok = std::move(schema);
    else if (auto set = opened->exec("setting the statement timeout",
                                     fmt::format("SET statement_timeout = {}", options.statement_timeout.count()));
             !set)
        ok = unexpected(std::move(set.error()));
    if (!ok) {
        last_connect_error = ok.error().message;
        reconnect_at = RealSteady::now() + backoff;
        backoff = std::min(options.reconnect_max, backoff * 2);
        return ok;
    }
    {
        const std::lock_guard lock(cancel_mutex);
        cancel =
            std::shared_ptr<void>(PQgetCancel(opened->get()), [](void* p) { PQfreeCancel(static_cast<PGcancel*>(p)); });
    }
    conn.emplace(std::move(*opened));
    backoff = options.reconnect_min;
    return Ok{};
}

void CronLeader::Impl::drop_connection() {
    {
        const std::lock_guard lock(cancel_mutex);
        cancel.reset();
    }
    conn.reset();
    reconnect_at = RealSteady::now() + backoff;
    backoff = std::min(options.reconnect_max, backoff * 2);
}

bool CronLeader::Impl::lease_may_have_lapsed() const {
    return RealSteady::now().time_since_epoch().count() >= lease_deadline.load();
}

StoreError CronLeader::Impl::failed(StoreError error) {
    if (conn && PQstatus(conn->get()) == CONNECTION_BAD) {
        drop_connection();
        step_down("connection lost");
    } else if (leader.load() && !bypass.load() && lease_may_have_lapsed()) {
        step_down("could not renew the lease before it may have lapsed");
    }
    return error;
}

void CronLeader::Impl::take_term(std::int64_t new_epoch, RealSteady::time_point sent) {
    epoch.store(new_epoch);
    set_deadline(sent + options.lease);
    renew_at = sent + options.renew_every;
    for (auto& s : schedules) s.decided.reset();  // read again under the new term
    if (!leader.exchange(true) && metrics) metrics->leading(true);
    log->info("cron leader: node {} leads \"{}\" (epoch {})", options.node, options.election, new_epoch);
}

void CronLeader::Impl::step_down(const char* why) {
    if (!leader.exchange(false)) return;
    if (metrics) metrics->leading(false);
    set_deadline(RealSteady::time_point{});
    log->warn("cron leader: node {} no longer leads \"{}\" (epoch {}): {}", options.node, options.election,
              epoch.load(), why);
}

StoreResult<Ok> CronLeader::Impl::step_lease() {
    if (bypass.load()) {
        leader.store(true);
        return Ok{};
    }
    const auto sent = RealSteady::now();
    if (leader.load()) {
        if (lease_may_have_lapsed()) step_down("could not renew the lease before it may have lapsed");
        else if (sent < renew_at) return Ok{};
        else {
            auto renewed = lease.renew(*conn, epoch.load());
            if (!renewed) return unexpected(failed(std::move(renewed.error())));
            if (*renewed) {
                set_deadline(sent + options.lease);
                renew_at = sent + options.renew_every;
                return Ok{};
            }
            step_down("the lease lapsed or another node took it");
        }
    }
    auto acquired = lease.acquire(*conn);
    if (!acquired) return unexpected(failed(std::move(acquired.error())));
    if (*acquired) take_term(**acquired, sent);
    return Ok{};
}

StoreResult<CronTick> CronLeader::Impl::fire_schedules() {
    CronTick out;
    const cron::Instant now = clock->wall_now();
    const FireTerm term{bypass.load() ? nullptr : &lease, epoch.load(), options.node};
    next_fire.reset();
    for (auto& s : schedules) {
        const bool due = !s.decided || [&] {
            const auto next = s.schedule.next(*s.decided);
            return next && *next <= now;
        }();
        if (due) {
            if (term.lease != nullptr && lease_may_have_lapsed()) {
                step_down("could not renew the lease before it may have lapsed");
                break;
            }
            auto r = fires.fire_due(*conn, term, s.def, s.schedule, now, options.misfire_grace);
            if (!r) return unexpected(failed(std::move(r.error())));
            if (r->fenced) {
                step_down("the lease lapsed or another node took it");
                break;
            }
            if (r->busy) continue;  // another writer has it now: look again next tick
            s.decided = r->decided;
            out.inserted += r->inserted;
            out.duplicate += r->duplicate;
            out.misfired += r->misfired;
            if (r->misfired > 0)
                log->warn("cron schedule \"{}\": {} fire(s) missed (misfire policy)", s.def.name, r->misfired);
        }
        if (const auto next = s.schedule.next(*s.decided); next && (!next_fire || *next < *next_fire)) next_fire = next;
    }
    return out;
}

StoreResult<CronTick> CronLeader::Impl::tick() {
    const std::lock_guard lock(tick_mutex);
    if (!conn) {
        if (RealSteady::now() < reconnect_at) {
            return unexpected(StoreError{
                StoreError::Code::io,
                fmt::format("cron leader: not connected, reconnecting with backoff ({})", last_connect_error)});
        }
        if (auto ok = connect(); !ok) return unexpected(std::move(ok.error()));
    }
    if (auto ok = step_lease(); !ok) return unexpected(std::move(ok.error()));
    CronTick out;
    if (leader.load()) {
        auto fired = fire_schedules();
        if (!fired) return fired;
        out = *fired;
    }
    out.leader = leader.load();
    return out;
}

}  // namespace txflow::cluster
