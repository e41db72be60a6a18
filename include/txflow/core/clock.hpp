#pragma once
/// @file
/// Time as the scheduler sees it: a monotonic clock for deadlines and a wall
/// clock for computing cron fires. Injectable, so tests move time by hand
/// instead of sleeping.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>
#include "txflow/core/export.hpp"

namespace txflow {

/// A point on the monotonic clock: deadlines and waits.
using SteadyTime = std::chrono::steady_clock::time_point;
/// A point on the wall clock (UTC, millisecond precision): cron fires and reports.
using WallTime = std::chrono::sys_time<std::chrono::milliseconds>;

/// The scheduler's view of time, injectable so tests can move it by hand.
class TXFLOW_EXPORT Clock {
public:
    virtual ~Clock() = default;
    /// The monotonic time now.
    [[nodiscard]] virtual SteadyTime steady_now() const = 0;
    /// The wall time now (UTC, in milliseconds).
    [[nodiscard]] virtual WallTime wall_now() const = 0;
    /// Manual clocks never pass time by themselves: waiters sleep until told
    /// the clock moved (see on_change) instead of until a real deadline.
    [[nodiscard]] virtual bool is_manual() const { return false; }
    /// Bumped on every manual change; waiters use it to know they are current.
    [[nodiscard]] virtual std::uint64_t generation() const { return 0; }
    /// `callback` runs after each manual change (real clocks never call it)
    /// until unsubscribe(id) returns.
    virtual std::uint64_t subscribe(std::function<void()> /*callback*/) { return 0; }
    /// Stops the callback registered under `id` (see subscribe()).
    virtual void unsubscribe(std::uint64_t /*id*/) {}
};

/// The system's clocks: std::chrono::steady_clock and system_clock.
class TXFLOW_EXPORT RealClock final : public Clock {
public:
    [[nodiscard]] SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
    [[nodiscard]] WallTime wall_now() const override {
        return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
    /// The process-wide instance (the scheduler's default clock).
    [[nodiscard]] static RealClock& instance() {
        static RealClock clock;
        return clock;
    }
};

/// A clock for tests: advance() moves both clocks; jump_wall() moves the wall
/// clock alone, as an NTP step or a suspend/resume would.
class TXFLOW_EXPORT ManualClock final : public Clock {
public:
    /// Starts at `wall_start` on the wall clock and `steady_start` on the monotonic one.
    explicit ManualClock(WallTime wall_start, SteadyTime steady_start = SteadyTime{std::chrono::hours{1}})
        : steady_(steady_start), wall_(wall_start) {}

    [[nodiscard]] SteadyTime steady_now() const override {
        const std::lock_guard lock(mutex_);
        return steady_;
    }
    [[nodiscard]] WallTime wall_now() const override {
        const std::lock_guard lock(mutex_);
        return wall_;
    }
    [[nodiscard]] bool is_manual() const override { return true; }
    [[nodiscard]] std::uint64_t generation() const override { return generation_.load(); }
    std::uint64_t subscribe(std::function<void()> callback) override {
        const std::lock_guard lock(callbacks_mutex_);
        callbacks_.emplace_back(++last_id_, std::move(callback));
        return last_id_;
    }
    void unsubscribe(std::uint64_t id) override {
        const std::lock_guard lock(callbacks_mutex_);
        std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
    }

    /// Moves both clocks forward by `d` and wakes the waiters.
    void advance(std::chrono::milliseconds d) { change(d, d); }
    /// Moves the wall clock alone by `d` (may be negative), as an NTP step would.
    void jump_wall(std::chrono::milliseconds d) { change(std::chrono::milliseconds{0}, d); }
    /// Sets the wall clock to `t`, leaving the monotonic clock where it is.
    void set_wall(WallTime t) {
        std::chrono::milliseconds delta;
        {
            const std::lock_guard lock(mutex_);
            delta = t - wall_;
        }
        jump_wall(delta);
    }

private:
    void change(std::chrono::milliseconds steady, std::chrono::milliseconds wall) {
        {
            const std::lock_guard lock(mutex_);
            steady_ += steady;
            wall_ += wall;
            ++generation_;
        }
        const std::lock_guard lock(callbacks_mutex_);
        for (auto& [id, callback] : callbacks_) callback();
    }

    mutable std::mutex mutex_;
    SteadyTime steady_;
    WallTime wall_;
    std::atomic<std::uint64_t> generation_{0};
    std::mutex callbacks_mutex_;  // held while callbacks run, so unsubscribe() waits for them
    std::uint64_t last_id_ = 0;
    std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks_;
};

}  // namespace txflow
