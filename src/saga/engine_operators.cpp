// Operator actions on a saga (retry or resolve its compensation, cancel) and
// the queries (info, list, wait, purge).
#include "saga/engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "saga/instance.hpp"

namespace txflow::saga {

using std::chrono::milliseconds;

// ------------------------------------------------------------ operators and queries

Instance* Engine::find(std::string_view id) const {
    auto it = instances_.find(std::string(id));
    return it == instances_.end() ? nullptr : it->second.get();
}

bool Engine::retry_compensation(std::string_view id) {
    std::unique_lock lock(mutex_);
    Instance* in = find(id);
    if (in == nullptr || in->state != State::compensation_failed || !in->def || in->stalled) return false;
    if (!durable(*in, lock, saga_to(*in, State::compensating, {}))) return false;
    lock.unlock();
    host_.log().info("saga '{}': an operator retries its compensation", in->id);
    schedule_drive(*in);
    return true;
}

bool Engine::resolve_compensation(std::string_view id, std::string note) {
    std::unique_lock lock(mutex_);
    Instance* in = find(id);
    if (in == nullptr || in->state != State::compensation_failed || in->stalled) return false;
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < in->steps.size(); ++i) {
        if (in->steps[i].state != State::compensation_failed) continue;
        seq = step_to(*in, i, State::compensated, note, {}, {});
        if (seq == 0) return false;
    }
    if (!durable(*in, lock,
                 saga_to(*in, State::compensated, note.empty() ? std::string("resolved by an operator") : note)))
        return false;
    lock.unlock();
    flush_events();
    host_.log().info("saga '{}' marked compensated by an operator: {}", in->id, note);
    return true;
}

bool Engine::cancel(std::string_view id, std::string reason) {
    const std::lock_guard lock(mutex_);
    Instance* in = find(id);
    if (in == nullptr || (in->state != State::pending && in->state != State::running) || !in->fail_reason.empty())
        return false;
    in->fail_reason = reason.empty() ? "cancelled" : std::move(reason);
    for (auto& st : in->steps)
        if (st.stop) st.stop->request_stop();
    return true;
}

Info Engine::info_of(const Instance& in) const {
    Info info;
    info.id = in.id;
    info.definition = in.definition;
    info.state = in.visible;
    info.data = nlohmann::json::parse(in.committed, nullptr, false);
    if (info.data.is_discarded()) info.data = in.committed;
    info.error = in.error;
    info.created = in.created;
    info.updated = in.updated;
    info.resolution = in.resolution;
    info.stalled = in.stalled;
    info.steps.reserve(in.steps.size());
    for (std::size_t i = 0; i < in.steps.size(); ++i) {
        const StepRun& st = in.steps[i];
        StepInfo s;
        s.name = in.step_names[i];
        s.state = st.state;
        s.attempts = st.attempts;
        s.compensation_attempts = st.compensation_attempts;
        s.started = st.started;
        s.finished = st.finished;
        s.duration = st.duration;
        s.last_error = st.last_error;
        info.steps.push_back(std::move(s));
    }
    return info;
}

std::optional<Info> Engine::info(std::string_view id) const {
    const std::lock_guard lock(mutex_);
    const Instance* in = find(id);
    if (in == nullptr) return std::nullopt;
    return info_of(*in);
}

std::vector<Info> Engine::list(std::optional<State> state) const {
    const std::lock_guard lock(mutex_);
    std::vector<Info> out;
    for (const auto& [id, in] : instances_)
        if (!state || in->visible == *state) out.push_back(info_of(*in));
    std::sort(out.begin(), out.end(), [](const Info& a, const Info& b) {
        return a.created != b.created ? a.created < b.created : a.id < b.id;
    });
    return out;
}

bool Engine::empty() const {
    const std::lock_guard lock(mutex_);
    return instances_.empty();
}

std::size_t Engine::purge(WallTime before) {
    std::size_t removed = 0;
    std::uint64_t last = 0;
    {
        const std::lock_guard lock(mutex_);
        for (auto it = instances_.begin(); it != instances_.end();) {
            const Instance& in = *it->second;
            if (!is_terminal(in.visible) || in.updated >= before || in.stalled || in.busy != 0) {
                ++it;
                continue;
            }
            auto seq = journal_.submit(store::SagaRemoved{in.id});
            if (!seq) break;  // keep it: the log must not disagree with memory
            last = *seq;
            it = instances_.erase(it);
            ++removed;
            changed_.notify_all();
        }
    }
    if (last != 0) (void)journal_.sync(last);
    if (removed != 0) host_.log().debug("forgot {} finished saga(s)", removed);
    return removed;
}

std::optional<Info> Engine::wait(std::string_view id, milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    if (find(id) == nullptr) return std::nullopt;
    // Found again on every wake: purge() may have forgotten it meanwhile.
    const Instance* in = nullptr;
    changed_.wait_for(lock, timeout, [&] {
        in = find(id);
        return in == nullptr || is_terminal(in->visible) || in->visible == State::compensation_failed || in->stalled;
    });
    if (in == nullptr) return std::nullopt;
    return info_of(*in);
}

}  // namespace txflow::saga
