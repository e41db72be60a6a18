#pragma once
// What every command group of the `txflow` tool shares: exit codes, the
// failure type a command throws to stop, and the Context that main() hands
// to each group's add_*_commands().
//
// Adding a command group (validate, run, jobs, wal ...):
//   1. tools/txflow/<group>_command.{hpp,cpp} with
//        void add_<group>_commands(CLI::App& app, Context& ctx);
//      Each subcommand's CLI11 callback only stores its work in ctx.action;
//      main() runs it after the whole command line parsed cleanly.
//   2. Call add_<group>_commands() from main.cpp.

#include <functional>
#include <iosfwd>
#include <stdexcept>
#include <string>

namespace txflow::tool {

// The tool's exit codes (documented in `txflow --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNoResult = 1;  // valid input, nothing to report (an expression that never fires)
inline constexpr int kExitUsage = 2;     // bad command line, expression or flag value
inline constexpr int kExitDatabase = 4;  // the database cannot be reached or failed a query

// Thrown by a command to stop: main() prints "txflow: <what()>" on stderr and
// exits with `code`.
class Failure : public std::runtime_error {
public:
    Failure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    [[nodiscard]] int code() const { return code_; }

private:
    int code_;
};

struct Context {
    std::ostream& out;
    std::ostream& err;
    // The selected command's work; set by its parse callback, run by main().
    std::function<int()> action;
};

}  // namespace txflow::tool
