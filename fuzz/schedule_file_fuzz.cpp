// libFuzzer target for the schedule-file loader: JSON parse (duplicate keys,
// positions, the nesting limit) and every validator check.
//
// For any input the loader must not crash, hang or leak. Beyond that, the
// target aborts (so libFuzzer reports it) when a documented property breaks:
//   - a refused file has at least one problem, each with a non-empty reason
//     and a pointer that is empty or starts with '/';
//   - an accepted file is stable: the canonical form of each job and saga is
//     the same after a second parse of the same text.
//
// Seeds: fuzz/corpus/schedule (examples/*.json and a few edge cases).
// Build and run: fuzz/run_fuzz.sh [seconds]

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "txflow/schedule_file/schedule.hpp"

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "schedule_file_fuzz: property broken: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // A fixed directory: relative paths resolve the same way on every run.
    const auto first = txflow::schedule_file::parse_text(text, "/fuzz");
    if (!first) {
        check(!first.error().empty(), "a refused file has a problem");
        for (const auto& p : first.error()) {
            check(!p.reason.empty(), "every problem has a reason");
            check(p.pointer.empty() || p.pointer.front() == '/', "a pointer is empty or starts with '/'");
        }
        return 0;
    }
    const auto second = txflow::schedule_file::parse_text(text, "/fuzz");
    check(second.has_value(), "the same text parses twice");
    check(first->jobs.size() == second->jobs.size(), "the same jobs");
    for (std::size_t i = 0; i < first->jobs.size(); ++i)
        check(first->canonical(first->jobs[i]) == second->canonical(second->jobs[i]), "a job's canonical form");
    for (std::size_t i = 0; i < first->sagas.size(); ++i)
        check(first->canonical(first->sagas[i]) == second->canonical(second->sagas[i]), "a saga's canonical form");
    return 0;
}
