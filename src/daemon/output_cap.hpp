#pragma once
// What of a run's output reaches the log (private to src/daemon): the first
// `head` bytes, then the last `tail` bytes once the run has ended, with
// "N bytes not logged" between them; and lines over a per-job rate (a token
// bucket shared by the job's runs) counted instead of logged. Memory stays
// within `tail` plus one line piece whatever the command prints.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "txflow/core/export.hpp"
#include "txflow/daemon/command.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::daemon::detail {

// Lines a second, in bursts of up to `burst`; thread-safe (a job's runs may overlap).
class TXFLOW_EXPORT LineRate {
public:
    LineRate(std::uint32_t per_second, std::uint32_t burst);
    // A reload's new rate, for the runs that start after it.
    void set(std::uint32_t per_second, std::uint32_t burst);
    [[nodiscard]] bool take();

private:
    using Clock = std::chrono::steady_clock;
    std::mutex mutex_;
    double per_second_;
    double burst_;
    double tokens_;
    Clock::time_point last_;
};

class TXFLOW_EXPORT OutputCap {
public:
    using Sink = std::function<void(Stream, std::string_view)>;
    OutputCap(const schedule_file::OutputSpec& spec, LineRate& rate, Sink log);

    void line(Stream stream, std::string_view text);
    // At the run's end: the note of what was not logged (through `note`), then the tail.
    void finish(const std::function<void(std::string_view)>& note);

private:
    struct Kept {
        Stream stream;
        std::string text;
    };
    void keep(Stream stream, std::string_view text);

    schedule_file::OutputSpec spec_;
    LineRate& rate_;
    Sink log_;
    std::size_t head_left_;
    bool past_head_ = false;
    std::deque<Kept> tail_;
    std::size_t tail_bytes_ = 0;
    std::uint64_t skipped_bytes_ = 0;  // between head and tail
    std::uint64_t rate_lines_ = 0;     // refused by the rate
    std::uint64_t rate_bytes_ = 0;
};

}  // namespace txflow::daemon::detail
