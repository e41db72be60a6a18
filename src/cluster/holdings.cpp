#include <algorithm>

#include "cluster/shared.hpp"

namespace txflow::cluster {

void Holdings::add(const std::vector<store::ClaimedJob>& jobs) {
    std::lock_guard lock(mutex_);
    for (const auto& j : jobs) held_[j.id] = Entry{j.attempt, std::stop_source{}};
}

void Holdings::remove(std::span<const Held> jobs) {
    std::lock_guard lock(mutex_);
    for (const auto& h : jobs) {
        auto it = held_.find(h.id);
        if (it != held_.end() && it->second.attempt == h.attempt) held_.erase(it);
    }
}

std::vector<Held> Holdings::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<Held> out;
    out.reserve(held_.size());
    for (const auto& [id, e] : held_) out.push_back({id, e.attempt});
    return out;
}

std::stop_token Holdings::token(std::int64_t id) const {
    std::lock_guard lock(mutex_);
    auto it = held_.find(id);
    return it == held_.end() ? std::stop_token{} : it->second.stop.get_token();
}

std::size_t Holdings::size() const {
    std::lock_guard lock(mutex_);
    return held_.size();
}

std::size_t Holdings::stop_lost(std::span<const Held> asked, std::span<const std::int64_t> kept) {
    std::vector<std::int64_t> sorted(kept.begin(), kept.end());
    std::sort(sorted.begin(), sorted.end());
    std::size_t lost = 0;
    std::lock_guard lock(mutex_);
    for (const auto& h : asked) {
        if (std::binary_search(sorted.begin(), sorted.end(), h.id)) continue;
        auto it = held_.find(h.id);
        if (it == held_.end() || it->second.attempt != h.attempt) continue;  // written back meanwhile
        if (it->second.stop.request_stop()) ++lost;
    }
    return lost;
}

void Holdings::stop_all() {
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : held_) e.stop.request_stop();
}

}  // namespace txflow::cluster
