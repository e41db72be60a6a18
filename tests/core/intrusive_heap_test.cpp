// IntrusiveHeap: the one timer heap (job timers and aux timers).

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "core/intrusive_heap.hpp"

namespace intrusive_heap_test {

using txflow::IntrusiveHeap;
using txflow::kNotInHeap;
using txflow::SteadyTime;

namespace {

struct Timer {
    int id = 0;
    std::uint32_t heap_pos = kNotInHeap;
};

SteadyTime at(std::int64_t ms) {
    return SteadyTime{std::chrono::milliseconds{ms}};
}
const SteadyTime kForever = SteadyTime::max();

std::vector<int> drain(IntrusiveHeap<Timer>& heap, SteadyTime now = kForever) {
    std::vector<int> ids;
    while (Timer* t = heap.pop_due(now)) {
        CHECK(t->heap_pos == kNotInHeap);
        ids.push_back(t->id);
    }
    return ids;
}

}  // namespace

TEST_CASE("intrusive heap: empty", "[core][intrusive_heap]") {
    IntrusiveHeap<Timer> heap;
    CHECK(heap.empty());
    CHECK(heap.size() == 0);
    CHECK_FALSE(heap.next_due());
    CHECK(heap.pop_due(kForever) == nullptr);
}

TEST_CASE("intrusive heap: pops in deadline order, arming order among equals", "[core][intrusive_heap]") {
    std::vector<Timer> timers(6);
    const std::int64_t dues[] = {30, 10, 20, 10, 5, 20};
    IntrusiveHeap<Timer> heap;
    for (std::size_t i = 0; i < 6; ++i) {
        timers[i].id = static_cast<int>(i);
        heap.add(timers[i], at(dues[i]));
        CHECK(IntrusiveHeap<Timer>::contains(timers[i]));
    }
    CHECK(heap.size() == 6);
    CHECK(heap.next_due() == at(5));
    CHECK(drain(heap) == std::vector<int>{4, 1, 3, 2, 5, 0});
    CHECK(heap.empty());
}

TEST_CASE("intrusive heap: pop_due respects now", "[core][intrusive_heap]") {
    Timer a{1};
    Timer b{2};
    IntrusiveHeap<Timer> heap;
    heap.add(a, at(10));
    heap.add(b, at(20));
    CHECK(heap.pop_due(at(9)) == nullptr);
    CHECK(heap.pop_due(at(10)) == &a);
    CHECK(heap.pop_due(at(19)) == nullptr);
    CHECK(heap.next_due() == at(20));
    CHECK(heap.pop_due(at(25)) == &b);
}

TEST_CASE("intrusive heap: cancel removes at once, from any position", "[core][intrusive_heap]") {
    std::vector<Timer> timers(8);
    IntrusiveHeap<Timer> heap;
    for (std::size_t i = 0; i < 8; ++i) {
        timers[i].id = static_cast<int>(i);
        heap.add(timers[i], at(10 * static_cast<std::int64_t>(i + 1)));
    }
    heap.cancel(timers[0]);   // the top
    heap.cancel(timers[5]);   // the middle
    heap.cancel(timers[7]);   // the last
    CHECK(heap.size() == 5);  // no dead entries left behind
    CHECK_FALSE(IntrusiveHeap<Timer>::contains(timers[5]));
    CHECK(heap.next_due() == at(20));
    CHECK(drain(heap) == std::vector<int>{1, 2, 3, 4, 6});
}

TEST_CASE("intrusive heap: re-arm moves a timer behind equals", "[core][intrusive_heap]") {
    Timer a{1};
    Timer b{2};
    Timer c{3};
    IntrusiveHeap<Timer> heap;
    heap.add(a, at(10));
    heap.add(b, at(10));
    heap.add(c, at(50));
    heap.rearm(a, at(10));  // same deadline: now after b
    heap.rearm(c, at(5));   // earlier
    CHECK(heap.size() == 3);
    CHECK(drain(heap) == std::vector<int>{3, 2, 1});
    heap.rearm(b, at(7));  // not armed: rearm arms it
    CHECK(heap.pop_due(at(7)) == &b);
}

TEST_CASE("intrusive heap: clear disarms every element", "[core][intrusive_heap]") {
    std::vector<Timer> timers(5);
    IntrusiveHeap<Timer> heap;
    for (auto& t : timers) heap.add(t, at(1));
    heap.clear();
    CHECK(heap.empty());
    for (const auto& t : timers) CHECK(t.heap_pos == kNotInHeap);
}

TEST_CASE("intrusive heap: randomized against std::multiset", "[core][intrusive_heap]") {
    // Reference: a multiset of (due, arming order, id); the heap must pop the
    // same sequence, whatever mix of add, cancel, re-arm and pop came before.
    constexpr std::size_t kTimers = 2'000;
    std::vector<Timer> timers(kTimers);
    for (std::size_t i = 0; i < kTimers; ++i) timers[i].id = static_cast<int>(i);
    struct Key {
        SteadyTime due;
        std::uint64_t order;
        int id;
        bool operator<(const Key& o) const { return due != o.due ? due < o.due : order < o.order; }
    };
    std::multiset<Key> ref;
    std::vector<std::multiset<Key>::iterator> where(kTimers, ref.end());
    std::uint64_t order = 0;
    IntrusiveHeap<Timer> heap;
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, kTimers - 1);
    std::uniform_int_distribution<std::int64_t> due_ms(0, 500);  // many ties
    std::uniform_int_distribution<int> op(0, 9);
    std::int64_t now = 0;
    for (int step = 0; step < 200'000; ++step) {
        const std::size_t i = pick(rng);
        const int o = op(rng);
        if (o < 4) {  // add, or re-arm if armed
            const SteadyTime due = at(now + due_ms(rng));
            if (where[i] != ref.end()) ref.erase(where[i]);
            heap.rearm(timers[i], due);
            where[i] = ref.insert(Key{due, order++, static_cast<int>(i)});
        } else if (o < 6) {  // cancel
            if (where[i] != ref.end()) {
                REQUIRE(IntrusiveHeap<Timer>::contains(timers[i]));
                heap.cancel(timers[i]);
                ref.erase(where[i]);
                where[i] = ref.end();
            } else {
                REQUIRE_FALSE(IntrusiveHeap<Timer>::contains(timers[i]));
            }
        } else {  // time passes; pop what is due
            now += 3;
            while (Timer* t = heap.pop_due(at(now))) {
                REQUIRE_FALSE(ref.empty());
                REQUIRE(ref.begin()->id == t->id);
                REQUIRE(ref.begin()->due <= at(now));
                where[static_cast<std::size_t>(t->id)] = ref.end();
                ref.erase(ref.begin());
            }
            REQUIRE((ref.empty() || ref.begin()->due > at(now)));
        }
        REQUIRE(heap.size() == ref.size());
        if (!ref.empty()) REQUIRE(heap.next_due() == ref.begin()->due);
    }
    std::vector<int> expected;
    for (const auto& k : ref) expected.push_back(k.id);
    CHECK(drain(heap) == expected);
}

}  // namespace intrusive_heap_test
