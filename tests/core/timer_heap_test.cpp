#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "txflow/core/timer_heap.hpp"

namespace txflow {
// Peeks at the heap's internals (friend of TimerHeap).
struct TimerHeapTestAccess {
    static std::size_t entries(const TimerHeap& h) { return h.heap_.size(); }  // live + tombstones
    static std::size_t tombstones(const TimerHeap& h) { return h.dead_; }
    static std::uint32_t next_seq(const TimerHeap& h) { return h.next_seq_; }
    static void set_next_seq(TimerHeap& h, std::uint32_t seq) { h.next_seq_ = seq; }
};
}  // namespace txflow

using txflow::SteadyTime;
using txflow::TimerHeap;
using txflow::TimerHeapTestAccess;
using namespace std::chrono_literals;

namespace {

SteadyTime at(std::int64_t ms) {
    return SteadyTime{std::chrono::milliseconds{ms}};
}
const SteadyTime kForever = SteadyTime::max();

}  // namespace

TEST_CASE("timer heap: empty", "[core][timer_heap]") {
    TimerHeap heap;
    CHECK(heap.empty());
    CHECK(heap.size() == 0);
    CHECK_FALSE(heap.next_due().has_value());
    CHECK_FALSE(heap.pop_due(kForever).has_value());
    CHECK_FALSE(heap.cancel(TimerHeap::Handle{}));
    CHECK_FALSE(heap.reschedule(TimerHeap::Handle{}, at(1)));
}

TEST_CASE("timer heap: pops in deadline order, same as std::sort", "[core][timer_heap]") {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<std::int64_t> dist(0, 1'000'000);
    TimerHeap heap;
    std::vector<std::pair<std::int64_t, std::uint64_t>> expected;  // (due, payload)
    for (std::uint64_t i = 0; i < 20'000; ++i) {
        const auto d = dist(rng);
        heap.add(at(d), i);
        expected.emplace_back(d, i);
    }
    std::stable_sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    REQUIRE(heap.size() == expected.size());
    REQUIRE(heap.next_due() == at(expected.front().first));
    std::size_t i = 0;
    while (auto fired = heap.pop_due(kForever)) {
        REQUIRE(i < expected.size());
        CHECK(fired->due == at(expected[i].first));
        CHECK(fired->payload == expected[i].second);  // stable: FIFO among equal deadlines
        ++i;
    }
    CHECK(i == expected.size());
    CHECK(heap.empty());
}

TEST_CASE("timer heap: pop_due respects now", "[core][timer_heap]") {
    TimerHeap heap;
    heap.add(at(10), 1);
    heap.add(at(20), 2);
    CHECK_FALSE(heap.pop_due(at(9)).has_value());
    auto a = heap.pop_due(at(10));  // due == now counts as due
    REQUIRE(a);
    CHECK(a->payload == 1);
    CHECK_FALSE(heap.pop_due(at(19)).has_value());
    CHECK(heap.next_due() == at(20));
    CHECK(heap.pop_due(at(25))->payload == 2);
}

TEST_CASE("timer heap: FIFO among equal deadlines", "[core][timer_heap]") {
    TimerHeap heap;
    for (std::uint64_t i = 0; i < 1000; ++i) heap.add(at(static_cast<std::int64_t>(i % 3)), i);
    std::vector<std::uint64_t> order;
    while (auto f = heap.pop_due(kForever)) order.push_back(f->payload);
    REQUIRE(order.size() == 1000);
    std::vector<std::uint64_t> expected;
    for (std::uint64_t r = 0; r < 3; ++r)
        for (std::uint64_t i = r; i < 1000; i += 3) expected.push_back(i);
    CHECK(order == expected);
}

TEST_CASE("timer heap: cancel, reschedule and stale handles", "[core][timer_heap]") {
    TimerHeap heap;
    const auto a = heap.add(at(10), 1);
    const auto b = heap.add(at(20), 2);
    const auto c = heap.add(at(30), 3);
    CHECK(heap.contains(b));

    CHECK(heap.cancel(b));
    CHECK_FALSE(heap.cancel(b));  // twice
    CHECK_FALSE(heap.contains(b));
    CHECK_FALSE(heap.reschedule(b, at(5)));
    CHECK(heap.size() == 2);

    // The slot is reused; the old handle stays stale.
    const auto d = heap.add(at(25), 4);
    CHECK(d.slot == b.slot);
    CHECK(d.generation != b.generation);
    CHECK_FALSE(heap.cancel(b));
    CHECK(heap.contains(d));

    CHECK(heap.reschedule(c, at(5)));  // earlier
    CHECK(heap.next_due() == at(5));
    CHECK(heap.reschedule(a, at(40)));  // later

    auto f = heap.pop_due(kForever);
    REQUIRE(f);
    CHECK(f->payload == 3);
    CHECK(f->handle == c);
    CHECK_FALSE(heap.cancel(c));  // already fired
    CHECK_FALSE(heap.reschedule(c, at(1)));
    CHECK(heap.pop_due(kForever)->payload == 4);
    CHECK(heap.pop_due(kForever)->payload == 1);
    CHECK(heap.empty());

    // Out-of-range and default handles are ignored.
    CHECK_FALSE(heap.cancel(TimerHeap::Handle{12345, 0}));
    CHECK_FALSE(heap.cancel(TimerHeap::Handle{}));
}

TEST_CASE("timer heap: reschedule to the same deadline goes behind equals", "[core][timer_heap]") {
    TimerHeap heap;
    const auto a = heap.add(at(10), 1);
    heap.add(at(10), 2);
    CHECK(heap.reschedule(a, at(10)));
    CHECK(heap.pop_due(kForever)->payload == 2);
    CHECK(heap.pop_due(kForever)->payload == 1);
}

TEST_CASE("timer heap: clear invalidates handles", "[core][timer_heap]") {
    TimerHeap heap;
    const auto a = heap.add(at(1), 1);
    heap.add(at(2), 2);
    heap.clear();
    CHECK(heap.empty());
    CHECK_FALSE(heap.cancel(a));
    const auto b = heap.add(at(3), 3);
    CHECK(heap.contains(b));
    CHECK_FALSE(heap.contains(a));
    CHECK(heap.pop_due(kForever)->payload == 3);
}

TEST_CASE("timer heap: randomized differential test against std::multimap", "[core][timer_heap]") {
    // Model: (due, seq) -> payload; FIFO among equal dues via seq.
    using Key = std::pair<std::int64_t, std::uint64_t>;
    std::map<Key, std::uint64_t> model;
    struct Live {
        TimerHeap::Handle handle;
        Key key;
    };
    std::vector<Live> live;                      // handles believed live
    std::vector<TimerHeap::Handle> dead;         // fired or cancelled
    std::map<std::uint64_t, std::size_t> where;  // payload -> index in `live`
    std::mt19937_64 rng(GENERATE(1u, 2u, 3u, 4u));
    std::uniform_int_distribution<std::int64_t> due_dist(0, 200);  // many ties
    TimerHeap heap;
    std::uint64_t seq = 0;
    std::uint64_t next_payload = 0;
    std::int64_t now = 0;

    const auto erase_live = [&](std::size_t idx) {
        where.erase(model.at(live[idx].key));
        dead.push_back(live[idx].handle);
        if (idx != live.size() - 1) {
            live[idx] = live.back();
            where[model.at(live[idx].key)] = idx;
        }
        live.pop_back();
    };

    for (int step = 0; step < 50'000; ++step) {
        const auto op = rng() % 100;
        if (op < 40) {
            const auto due = now + due_dist(rng);
            const auto payload = next_payload++;
            const Key key{due, seq++};
            const auto h = heap.add(at(due), payload);
            model.emplace(key, payload);
            where[payload] = live.size();
            live.push_back({h, key});
        } else if (op < 55 && !live.empty()) {
            const auto idx = static_cast<std::size_t>(rng() % live.size());
            REQUIRE(heap.cancel(live[idx].handle));
            const Key key = live[idx].key;
            erase_live(idx);
            model.erase(key);
        } else if (op < 70 && !live.empty()) {
            const auto idx = static_cast<std::size_t>(rng() % live.size());
            const auto due = now + due_dist(rng);
            REQUIRE(heap.reschedule(live[idx].handle, at(due)));
            const auto payload = model.at(live[idx].key);
            model.erase(live[idx].key);
            live[idx].key = Key{due, seq++};
            model.emplace(live[idx].key, payload);
        } else if (op < 75 && !dead.empty()) {
            const auto& h = dead[static_cast<std::size_t>(rng() % dead.size())];
            REQUIRE_FALSE(heap.cancel(h));
            REQUIRE_FALSE(heap.reschedule(h, at(now)));
        } else {
            now += static_cast<std::int64_t>(rng() % 20);
            while (true) {
                auto fired = heap.pop_due(at(now));
                const bool model_due = !model.empty() && model.begin()->first.first <= now;
                REQUIRE(fired.has_value() == model_due);
                if (!fired) break;
                const auto [key, payload] = *model.begin();
                CHECK(fired->due == at(key.first));
                REQUIRE(fired->payload == payload);
                const auto idx = where.at(payload);
                CHECK(fired->handle == live[idx].handle);
                erase_live(idx);
                model.erase(model.begin());
            }
        }
        REQUIRE(heap.size() == model.size());
        REQUIRE(TimerHeapTestAccess::entries(heap) <= 2 * heap.size());  // tombstones bounded
        REQUIRE(TimerHeapTestAccess::entries(heap) == heap.size() + TimerHeapTestAccess::tombstones(heap));
        if (model.empty()) {
            REQUIRE_FALSE(heap.next_due().has_value());
        } else {
            REQUIRE(heap.next_due() == at(model.begin()->first.first));
        }
    }
}

TEST_CASE("timer heap: cancel is lazy, the top is pruned at once", "[core][timer_heap]") {
    TimerHeap heap;
    const auto a = heap.add(at(10), 1);
    const auto b = heap.add(at(20), 2);
    const auto c = heap.add(at(30), 3);
    heap.add(at(40), 4);
    heap.add(at(50), 5);

    CHECK(heap.cancel(c));  // not the top: stays behind as a tombstone
    CHECK(heap.size() == 4);
    CHECK(TimerHeapTestAccess::tombstones(heap) == 1);
    CHECK(TimerHeapTestAccess::entries(heap) == 5);
    CHECK(heap.next_due() == at(10));

    CHECK(heap.cancel(a));  // the top: pruned, next_due moves on
    CHECK(heap.next_due() == at(20));
    CHECK(heap.cancel(b));  // the top again: pruning also drops c's tombstone under it
    CHECK(heap.next_due() == at(40));
    CHECK(heap.size() == 2);
    CHECK(TimerHeapTestAccess::tombstones(heap) == 0);
    CHECK(TimerHeapTestAccess::entries(heap) == 2);

    CHECK(heap.pop_due(kForever)->payload == 4);
    CHECK(heap.pop_due(kForever)->payload == 5);
    CHECK_FALSE(heap.pop_due(kForever));
    CHECK(heap.empty());
}

TEST_CASE("timer heap: a tombstone never fires, even when its slot is reused", "[core][timer_heap]") {
    TimerHeap heap;
    heap.add(at(10), 1);
    const auto b = heap.add(at(20), 2);
    heap.add(at(30), 3);
    heap.add(at(40), 4);
    CHECK(heap.cancel(b));               // tombstone (20, slot of b)
    const auto d = heap.add(at(20), 5);  // same slot, same deadline
    CHECK(d.slot == b.slot);
    CHECK_FALSE(heap.contains(b));
    CHECK(heap.contains(d));
    CHECK_FALSE(heap.cancel(b));  // the stale handle cannot kill d
    std::vector<std::uint64_t> order;
    while (auto f = heap.pop_due(kForever)) order.push_back(f->payload);
    CHECK(order == std::vector<std::uint64_t>{1, 5, 3, 4});
}

TEST_CASE("timer heap: compaction bounds tombstones and keeps the order", "[core][timer_heap]") {
    std::mt19937_64 rng(777);
    std::uniform_int_distribution<std::int64_t> due_dist(0, 50);  // many ties
    TimerHeap heap;
    struct Timer {
        TimerHeap::Handle handle;
        std::int64_t due;
        std::uint64_t payload;
    };
    std::vector<Timer> timers;
    for (std::uint64_t i = 0; i < 10'000; ++i) {
        const auto d = due_dist(rng);
        timers.push_back({heap.add(at(d), i), d, i});
    }
    // Cancel 90 % in random order; compaction must run (several times).
    std::shuffle(timers.begin(), timers.end(), rng);
    const std::size_t keep = 1'000;
    for (std::size_t i = keep; i < timers.size(); ++i) {
        REQUIRE(heap.cancel(timers[i].handle));
        REQUIRE(TimerHeapTestAccess::entries(heap) <= 2 * heap.size());
    }
    // 9,000 tombstones were made; only compaction gets the heap this small
    // (pruning drops tombstones from the top only).
    CHECK(heap.size() == keep);
    CHECK(TimerHeapTestAccess::entries(heap) <= 2 * keep);
    for (std::size_t i = keep; i < timers.size(); ++i) CHECK_FALSE(heap.contains(timers[i].handle));

    timers.resize(keep);
    std::sort(timers.begin(), timers.end(), [](const Timer& a, const Timer& b) {
        return a.due < b.due || (a.due == b.due && a.payload < b.payload);  // FIFO among equals
    });
    std::size_t i = 0;
    while (auto f = heap.pop_due(kForever)) {
        REQUIRE(i < timers.size());
        CHECK(f->payload == timers[i].payload);
        CHECK(f->due == at(timers[i].due));
        CHECK(f->handle == timers[i].handle);
        ++i;
    }
    CHECK(i == keep);
    CHECK(heap.empty());
    CHECK(TimerHeapTestAccess::entries(heap) == 0);
}

TEST_CASE("timer heap: cancelling everything leaves no entries", "[core][timer_heap]") {
    TimerHeap heap;
    std::vector<TimerHeap::Handle> handles;
    for (std::uint64_t i = 0; i < 1'000; ++i) handles.push_back(heap.add(at(static_cast<std::int64_t>(i)), i));
    std::mt19937_64 rng(5);
    std::shuffle(handles.begin(), handles.end(), rng);
    for (const auto& h : handles) CHECK(heap.cancel(h));
    CHECK(heap.empty());
    CHECK_FALSE(heap.next_due());
    CHECK(TimerHeapTestAccess::entries(heap) == 0);
    CHECK(TimerHeapTestAccess::tombstones(heap) == 0);
}

TEST_CASE("timer heap: repeated reschedule does not grow the heap", "[core][timer_heap]") {
    TimerHeap heap;
    const auto a = heap.add(at(100), 1);
    heap.add(at(50), 2);
    for (std::int64_t i = 0; i < 10'000; ++i) {
        REQUIRE(heap.reschedule(a, at(1000 + i % 7)));
        REQUIRE(TimerHeapTestAccess::entries(heap) <= 2 * heap.size());
    }
    CHECK(heap.size() == 2);
    CHECK(heap.pop_due(kForever)->payload == 2);
    auto f = heap.pop_due(kForever);
    REQUIRE(f);
    CHECK(f->payload == 1);
    CHECK(f->due == at(1000 + 9'999 % 7));
    CHECK(f->handle == a);
    CHECK(heap.empty());
}

TEST_CASE("timer heap: sequence wrap renumbers and keeps FIFO", "[core][timer_heap]") {
    TimerHeap heap;
    std::vector<TimerHeap::Handle> handles;
    for (std::uint64_t i = 0; i < 10; ++i) handles.push_back(heap.add(at(5), i));
    heap.add(at(1), 100);
    CHECK(heap.cancel(handles[3]));  // a tombstone to drop on renumbering
    TimerHeapTestAccess::set_next_seq(heap, 0xFFFF'FFFFu - 5);
    for (std::uint64_t i = 10; i < 20; ++i) handles.push_back(heap.add(at(5), i));  // crosses the wrap
    CHECK(TimerHeapTestAccess::next_seq(heap) < 100);                               // renumbered
    CHECK(TimerHeapTestAccess::tombstones(heap) == 0);
    CHECK(heap.reschedule(handles[0], at(5)));  // goes behind every equal deadline
    CHECK(heap.size() == 20);
    CHECK_FALSE(heap.contains(handles[3]));
    for (std::size_t i = 0; i < handles.size(); ++i) {
        if (i != 3) CHECK(heap.contains(handles[i]));
    }

    std::vector<std::uint64_t> order;
    while (auto f = heap.pop_due(kForever)) order.push_back(f->payload);
    std::vector<std::uint64_t> expected{100};
    for (std::uint64_t i = 1; i < 20; ++i) {
        if (i != 3) expected.push_back(i);
    }
    expected.push_back(0);
    CHECK(order == expected);
}
