#pragma once
/// @file
/// The worker pool: priorities (higher first, FIFO within one, aging so low
/// priority cannot starve), named queues with a concurrency limit each
/// (resource isolation), and a bounded backlog with a policy when full.
/// Knows nothing of cron or jobs: it runs tasks.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/core/priority.hpp"

namespace txflow {

/// What submit() does when the backlog is full (ExecutorOptions::max_backlog).
enum class OverflowPolicy : std::uint8_t {
    block,        ///< submit() waits for room
    reject,       ///< submit() refuses the new task
    drop_oldest,  ///< the oldest queued task is dropped to make room
};

/// Identifies a named queue of an Executor (see Executor::queue()).
using QueueId = std::uint32_t;
inline constexpr QueueId kDefaultQueue = 0;  ///< no concurrency limit

/// How an Executor is sized and how it behaves when full.
struct TXFLOW_EXPORT ExecutorOptions {
    std::size_t workers = 0;                          ///< 0: std::thread::hardware_concurrency()
    std::size_t max_backlog = 0;                      ///< queued (not running) tasks; 0: unbounded
    OverflowPolicy overflow = OverflowPolicy::block;  ///< what submit() does when max_backlog tasks are queued
    /// A queued task gains one priority level per aging_step waited
    /// (effective = base + waited / aging_step, uncapped; ties: older first).
    /// Must be positive.
    std::chrono::milliseconds aging_step{1000};
};

/// A unit of work for the Executor, with its priority and queue.
struct TXFLOW_EXPORT Task {
    // The `{}` initialisers keep Task{fn} and Task{.run = fn} free of
    // -Wmissing-field-initializers.
    std::function<void()> run{};           ///< the work itself
    std::function<void()> dropped{};       ///< instead of run, when drop_oldest evicts it (may be empty)
    Priority priority = Priority::normal;  ///< higher runs first (with aging, see ExecutorOptions::aging_step)
    QueueId queue = kDefaultQueue;         ///< a queue id from Executor::queue(); kDefaultQueue: no limit
};

/// One queue's figures at one instant (Executor::queue_stats()).
struct TXFLOW_EXPORT QueueStats {
    std::string name;                         ///< "default" for kDefaultQueue
    std::size_t limit = 0;                    ///< max concurrency; 0: none
    std::size_t queued = 0;                   ///< tasks waiting to run
    std::size_t running = 0;                  ///< tasks running now
    std::chrono::nanoseconds oldest_wait{0};  ///< how long the oldest queued task has waited; 0 when none
};

/// The result of Executor::submit() for one task.
enum class SubmitResult : std::uint8_t { accepted, rejected, stopped };

/// A thread pool with priorities, named queues with concurrency limits and a bounded backlog.
class TXFLOW_EXPORT Executor {
public:
    /// Starts `options.workers` worker threads.
    explicit Executor(ExecutorOptions options = {});
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;
    ~Executor();  ///< shutdown(): runs what is queued, then joins

    /// Same name, same id; a later call with another limit updates it.
    /// max_concurrency 0: no limit. Ids are small and dense (1, 2, ...).
    QueueId queue(std::string_view name, std::size_t max_concurrency);

    /// accepted: queued (or, with drop_oldest, queued after evicting the
    /// oldest queued task, whose `dropped` runs on this thread after the lock
    /// is released). rejected: backlog full under OverflowPolicy::reject, or
    /// `task.queue` is not an id returned by queue(). stopped: after shutdown()
    /// (a submit blocked by OverflowPolicy::block also returns stopped when
    /// shutdown() begins). Under `block`, do not submit from inside a task when
    /// every worker may be doing the same: that deadlocks, as in any bounded pool.
    SubmitResult submit(Task task);
    /// submit() of each task in order, under one lock and with one wake-up
    /// (a burst of due fires is handed over in one call). Priorities, queues
    /// and the overflow policy apply to each task as if submitted alone.
    /// results[i] receives task i's result; results.size() must be at least
    /// tasks.size(). The tasks are moved from. Returns the number accepted.
    std::size_t submit_batch(std::span<Task> tasks, std::span<SubmitResult> results);

    /// Blocks until nothing is queued or running. Do not call it from a task.
    void wait_idle();
    /// Stops accepting tasks, lets queued ones run, joins the workers.
    /// Idempotent and safe from several threads; must not be called from a task.
    void shutdown();
    /// The first half of shutdown(), without the join: stops accepting tasks
    /// and wakes blocked submitters; workers exit once the backlog is empty and
    /// their task returns. Never blocks, so a caller bounded by a deadline can
    /// leave a hung task behind (shutdown() or the destructor joins it later).
    void request_shutdown();

    /// Tasks waiting to run, in every queue.
    [[nodiscard]] std::size_t queued() const;
    /// Tasks running now.
    [[nodiscard]] std::size_t running() const;
    /// Every queue, by id (index 0: the default queue). Takes the lock once;
    /// meant for a metrics scrape, not a hot path.
    [[nodiscard]] std::vector<QueueStats> queue_stats() const;
    /// The number of worker threads started (unchanged by shutdown()).
    [[nodiscard]] std::size_t workers() const;
    /// Starts one extra thread that runs the best eligible queued task, if
    /// any, and exits: the pool is one larger for that task only (the
    /// scheduler lends it to urgent work stuck behind a task that will not
    /// yield). False after shutdown() began. shutdown() joins it.
    bool lend_worker();
    /// Lent threads started so far (for tests and metrics).
    [[nodiscard]] std::size_t workers_lent() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;  // owns the worker threads too
};

}  // namespace txflow
