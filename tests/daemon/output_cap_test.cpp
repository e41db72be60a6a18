// The per-run output cap (first and last bytes, "N bytes not logged") and the
// per-job line rate.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "daemon/output_cap.hpp"

namespace output_cap_test {

using txflow::daemon::Stream;
using txflow::daemon::detail::LineRate;
using txflow::daemon::detail::OutputCap;
using txflow::schedule_file::OutputSpec;

namespace {

struct Logged {
    std::vector<std::string> lines;
    std::vector<std::string> notes;
    std::size_t bytes = 0;
};

OutputCap make_cap(const OutputSpec& spec, LineRate& rate, Logged& logged) {
    return OutputCap(spec, rate, [&logged](Stream, std::string_view line) {
        logged.lines.emplace_back(line);
        logged.bytes += line.size() + 1;
    });
}

void finish(OutputCap& cap, Logged& logged) {
    cap.finish([&logged](std::string_view note) { logged.notes.emplace_back(note); });
}

OutputSpec spec(std::size_t head, std::size_t tail) {
    OutputSpec s;
    s.head = head;
    s.tail = tail;
    return s;
}

}  // namespace

TEST_CASE("output cap: output within the head is logged whole, with no note", "[daemon][output]") {
    LineRate rate(1000, 1000);
    Logged logged;
    OutputCap cap = make_cap(spec(100, 100), rate, logged);
    cap.line(Stream::out, "one");
    cap.line(Stream::err, "two");
    finish(cap, logged);
    CHECK(logged.lines == std::vector<std::string>{"one", "two"});
    CHECK(logged.notes.empty());
}

TEST_CASE("output cap: the first and last bytes, and a count of the rest", "[daemon][output]") {
    LineRate rate(1000, 1000);
    Logged logged;
    OutputCap cap = make_cap(spec(10, 10), rate, logged);
    for (int i = 0; i < 100; ++i) cap.line(Stream::out, std::to_string(1000 + i));  // 5 bytes a line
    finish(cap, logged);
    // The head: two lines of 4 + newline; the tail: the last two.
    CHECK(logged.lines == std::vector<std::string>{"1000", "1001", "1098", "1099"});
    REQUIRE(logged.notes.size() == 1);
    CHECK(logged.notes[0] == "384 bytes not logged (the log keeps the first 10 and the last 10 bytes of a run)");
}

TEST_CASE("output cap: one huge line keeps its start and its end within the cap", "[daemon][output]") {
    LineRate rate(1000, 1000);
    Logged logged;
    OutputCap cap = make_cap(spec(1024, 1024), rate, logged);
    const std::string piece(64 * 1024, 'x');
    for (int i = 0; i < 100; ++i) cap.line(Stream::out, piece);  // a 6.4 MB line in pieces
    cap.line(Stream::out, "end");
    finish(cap, logged);
    CHECK(logged.bytes <= 2048);
    REQUIRE(logged.lines.size() >= 2);
    CHECK(logged.lines.front() == std::string(1023, 'x'));
    CHECK(logged.lines.back() == "end");
    REQUIRE(logged.notes.size() == 1);
    CHECK(logged.notes[0].find(" bytes not logged") != std::string::npos);
}

TEST_CASE("output cap: a zero tail logs only the head", "[daemon][output]") {
    LineRate rate(1000, 1000);
    Logged logged;
    OutputCap cap = make_cap(spec(6, 0), rate, logged);
    cap.line(Stream::out, "abc");
    cap.line(Stream::out, "defgh");
    cap.line(Stream::out, "ij");
    finish(cap, logged);
    CHECK(logged.lines == std::vector<std::string>{"abc", "d"});
    CHECK(logged.notes ==
          std::vector<std::string>{"6 bytes not logged (the log keeps the first 6 and the last 0 bytes of a run)"});
}

TEST_CASE("output cap: lines over the job's rate are counted, not logged", "[daemon][output]") {
    LineRate rate(1, 3);  // a burst of 3, then one a second
    Logged logged;
    OutputSpec limited = spec(1 << 20, 0);
    limited.lines_per_second = 1;
    OutputCap cap = make_cap(limited, rate, logged);
    for (int i = 0; i < 10; ++i) cap.line(Stream::out, "line");
    finish(cap, logged);
    // 3 from the burst; a fourth only if a second passed (not on a loaded machine: at most 4).
    CHECK(logged.lines.size() >= 3);
    CHECK(logged.lines.size() <= 4);
    REQUIRE(logged.notes.size() == 1);
    CHECK(logged.notes[0].find("line(s) (") != std::string::npos);
    CHECK(logged.notes[0].find("not logged: over 1 lines a second for this job") != std::string::npos);

    // The bucket is the job's: the next run starts where this one left it.
    Logged next;
    OutputCap cap2 = make_cap(limited, rate, next);
    cap2.line(Stream::out, "line");
    finish(cap2, next);
    CHECK(next.lines.size() + logged.lines.size() <= 5);
}

}  // namespace output_cap_test
