#include "cluster/completer.hpp"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace txflow::cluster {

Completer::Completer(Shared& shared)
    : shared_(shared), session_("completer", shared.options, *shared.log, give_up_, shared.counters.reconnects) {}

Completer::~Completer() {
    if (thread_.joinable()) finish(std::chrono::steady_clock::now());
}

void Completer::start() {
    thread_ = std::thread([this] { run(); });
}

void Completer::complete(Held job) {
    std::lock_guard lock(mutex_);
    done_.push_back(job);
    if (done_.size() + setbacks_.size() == 1) cv_.notify_one();
}

void Completer::setback(Setback setback) {
    std::lock_guard lock(mutex_);
    setbacks_.push_back(std::move(setback));
    if (done_.size() + setbacks_.size() == 1) cv_.notify_one();
}

void Completer::finish(std::chrono::steady_clock::time_point deadline) {
    session_.give_up_at(deadline);  // no reconnecting past it
    {
        std::lock_guard lock(mutex_);
        finishing_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void Completer::run() {
    const auto max = static_cast<std::size_t>(shared_.options.complete_batch);
    std::vector<Held> done;
    std::vector<Setback> setbacks;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return finishing_ || !done_.empty() || !setbacks_.empty(); });
            if (done_.empty() && setbacks_.empty() && done.empty() && setbacks.empty()) return;  // finishing
            // Take up to `max` of each; the rest waits for the next round.
            const auto take_done = std::min(max - std::min(max, done.size()), done_.size());
            done.insert(done.end(), done_.begin(), done_.begin() + static_cast<std::ptrdiff_t>(take_done));
            done_.erase(done_.begin(), done_.begin() + static_cast<std::ptrdiff_t>(take_done));
            const auto take_set = std::min(max - std::min(max, setbacks.size()), setbacks_.size());
            for (std::size_t i = 0; i < take_set; ++i) setbacks.push_back(std::move(setbacks_[i]));
            setbacks_.erase(setbacks_.begin(), setbacks_.begin() + static_cast<std::ptrdiff_t>(take_set));
        }
        if (write(done, setbacks)) continue;
        // Not written (no connection, and the deadline passed while finishing).
        shared_.log->error(
            "txflow cluster completer: {} results not written; their leases expire and the jobs run again",
            done.size() + setbacks.size());
        std::lock_guard lock(mutex_);
        done.clear();
        setbacks.clear();
        done_.clear();
        setbacks_.clear();
        return;
    }
}

// Writes the batch; false only when it gave up (stopping past the deadline).
bool Completer::write(std::vector<Held>& done, std::vector<Setback>& setbacks) {
    auto& c = shared_.counters;
    while (!done.empty()) {
        if (!session_.ensure()) return false;
        auto taken = complete_batch(session_, shared_.tables, done);
        if (!taken) {
            if (session_.connected()) {
                shared_.log->error("txflow cluster completer: {}", taken.error().message);
                if (session_.gave_up() || give_up_.wait_for(std::chrono::milliseconds(100))) return false;
            }
            continue;
        }
        c.completed.fetch_add(taken->size(), std::memory_order_relaxed);
        if (taken->size() < done.size()) {
            std::unordered_set<std::int64_t> took(taken->begin(), taken->end());
            std::vector<std::string> fenced;
            for (const auto& h : done) {
                if (took.count(h.id) == 0) fenced.push_back(fmt::format("{} (attempt {})", h.id, h.attempt));
            }
            c.fenced_off.fetch_add(fenced.size(), std::memory_order_relaxed);
            shared_.log->warn(
                "txflow cluster completer: {} completion(s) fenced off, the job no longer this "
                "attempt's: {}",
                fenced.size(), fmt::join(fenced, ", "));
        }
        shared_.holdings.remove(done);
        done.clear();
    }
    while (!setbacks.empty()) {
        if (!session_.ensure()) return false;
        auto taken = fail_batch(session_, shared_.tables, setbacks);
        if (!taken) {
            if (session_.connected()) {
                shared_.log->error("txflow cluster completer: {}", taken.error().message);
                if (session_.gave_up() || give_up_.wait_for(std::chrono::milliseconds(100))) return false;
            }
            continue;
        }
        std::unordered_set<std::int64_t> taken_ids;
        for (const auto& t : *taken) taken_ids.insert(t.id);
        std::size_t taken_snoozes = 0;
        for (const auto& s : setbacks) {
            if (s.snooze && taken_ids.count(s.job.id) > 0) ++taken_snoozes;
        }
        c.snoozed.fetch_add(taken_snoozes, std::memory_order_relaxed);
        c.failed.fetch_add(taken->size() - taken_snoozes, std::memory_order_relaxed);
        c.fenced_off.fetch_add(setbacks.size() - taken->size(), std::memory_order_relaxed);
        std::vector<Held> held;
        held.reserve(setbacks.size());
        for (const auto& s : setbacks) held.push_back(s.job);
        shared_.holdings.remove(held);
        setbacks.clear();
    }
    return true;
}

}  // namespace txflow::cluster
