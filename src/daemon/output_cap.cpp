// The per-run output cap and the per-job line rate (output_cap.hpp).

#include "output_cap.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace txflow::daemon::detail {

LineRate::LineRate(std::uint32_t per_second, std::uint32_t burst)
    : per_second_(per_second), burst_(burst), tokens_(burst), last_(Clock::now()) {}

void LineRate::set(std::uint32_t per_second, std::uint32_t burst) {
    const std::lock_guard lock(mutex_);
    per_second_ = per_second;
    burst_ = burst;
    tokens_ = std::min(tokens_, burst_);
}

bool LineRate::take() {
    const std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * per_second_);
    last_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

OutputCap::OutputCap(const schedule_file::OutputSpec& spec, LineRate& rate, Sink log)
    : spec_(spec), rate_(rate), log_(std::move(log)), head_left_(spec.head) {}

void OutputCap::line(Stream stream, std::string_view text) {
    if (!past_head_) {
        // A line costs its bytes and its newline, so empty lines are bounded too.
        if (text.size() + 1 <= head_left_) {
            head_left_ -= text.size() + 1;
            if (rate_.take()) {
                log_(stream, text);
            } else {
                ++rate_lines_;
                rate_bytes_ += text.size();
            }
            return;
        }
        // The line that crosses the head: its start is logged, the rest goes on.
        past_head_ = true;
        const std::size_t take = head_left_ > 0 ? head_left_ - 1 : 0;
        head_left_ = 0;
        if (take > 0) {
            if (rate_.take()) {
                log_(stream, text.substr(0, take));
            } else {
                ++rate_lines_;
                rate_bytes_ += take;
            }
            text.remove_prefix(take);
        }
    }
    keep(stream, text);
}

void OutputCap::keep(Stream stream, std::string_view text) {
    if (spec_.tail == 0) {
        skipped_bytes_ += text.size();
        return;
    }
    // Only the last `tail` bytes can be logged: never keep more than that.
    if (text.size() + 1 > spec_.tail) {
        const std::size_t cut = text.size() + 1 - spec_.tail;
        skipped_bytes_ += cut;
        text.remove_prefix(cut);
    }
    tail_.push_back({stream, std::string(text)});
    tail_bytes_ += text.size() + 1;
    while (tail_bytes_ > spec_.tail) {
        Kept& front = tail_.front();
        const std::size_t excess = tail_bytes_ - spec_.tail;
        if (front.text.size() + 1 <= excess) {
            skipped_bytes_ += front.text.size();
            tail_bytes_ -= front.text.size() + 1;
            tail_.pop_front();
        } else {
            front.text.erase(0, excess);
            skipped_bytes_ += excess;
            tail_bytes_ -= excess;
        }
    }
}

void OutputCap::finish(const std::function<void(std::string_view)>& note) {
    if (skipped_bytes_ > 0) {
        note(fmt::format("{} bytes not logged (the log keeps the first {} and the last {} bytes of a run)",
                         skipped_bytes_, spec_.head, spec_.tail));
    }
    if (rate_lines_ > 0) {
        note(fmt::format("{} line(s) ({} bytes) not logged: over {} lines a second for this job", rate_lines_,
                         rate_bytes_, spec_.lines_per_second));
    }
    for (const Kept& k : tail_) log_(k.stream, k.text);
    tail_.clear();
    tail_bytes_ = 0;
}

}  // namespace txflow::daemon::detail
