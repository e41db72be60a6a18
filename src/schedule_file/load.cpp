// Loading and validating schedule files: every problem is collected with
// the JSON pointer of the value at fault, then reported in document order
// (the parse, with duplicate keys, positions and the nesting limit, is
// json_dom.hpp's).

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "checker.hpp"
#include "json_dom.hpp"
#include "txflow/schedule_file/schedule.hpp"

namespace txflow::schedule_file {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

using detail::Checker;

// Where `pointer` (or, for a key that is missing, its nearest existing
// parent) appears in the document.
std::size_t position(const std::unordered_map<std::string, std::size_t>& order, std::string pointer) {
    while (true) {
        if (const auto it = order.find(pointer); it != order.end()) return it->second;
        if (pointer.empty()) return 0;
        pointer.resize(pointer.rfind('/'));
    }
}

std::filesystem::path absolute_dir(const std::filesystem::path& directory) {
    std::error_code ec;
    std::filesystem::path dir = directory.empty() ? std::filesystem::current_path(ec) : directory;
    if (dir.is_relative()) {
        auto abs = std::filesystem::absolute(dir, ec);
        if (!ec) dir = abs;
    }
    return dir.lexically_normal();
}

}  // namespace

LoadResult parse_text(std::string_view text, const std::filesystem::path& directory) {
    if (text.size() > kMaxFileBytes) {
        return unexpected(Problems{{"", fmt::format("a schedule file is at most {} MiB; this one has {} bytes",
                                                    kMaxFileBytes >> 20U, text.size())}});
    }
    detail::DomBuilder dom(text);
    if (!json::sax_parse(text, &dom, json::input_format_t::json, true, false)) {
        // Only the syntax error or the nesting: a partial document would give noise.
        return unexpected(Problems{dom.fatal.value_or(Problem{"", "invalid JSON"})});
    }

    ScheduleFile file;
    file.directory = absolute_dir(directory);
    Checker checker(file.directory, file);
    checker.check(dom.root);

    Problems problems = std::move(dom.duplicates);
    problems.insert(problems.end(), std::make_move_iterator(checker.problems.begin()),
                    std::make_move_iterator(checker.problems.end()));
    if (!problems.empty()) {
        std::stable_sort(problems.begin(), problems.end(), [&](const Problem& a, const Problem& b) {
            return position(dom.order, a.pointer) < position(dom.order, b.pointer);
        });
        return unexpected(std::move(problems));
    }
    return file;
}

Result<std::string, std::string> read_text_file(const std::filesystem::path& path) {
    const auto fail = [&](const std::string& why) {
        return unexpected(fmt::format("cannot read {}: {}", path.string(), why));
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail("is a directory");
    const auto size = std::filesystem::file_size(path, ec);
    const auto too_large = [&] {
        return fail(fmt::format("larger than the {} MiB a schedule file may have", kMaxFileBytes >> 20U));
    };
    if (!ec && size > kMaxFileBytes) return too_large();
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(errno != 0 ? std::strerror(errno) : "cannot open");
    // At most one byte over the limit, whatever the file claims (a pipe, /dev/zero).
    std::string text(kMaxFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return fail(errno != 0 ? std::strerror(errno) : "read error");
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) return too_large();
    return text;
}

LoadResult load_file(const std::filesystem::path& path) {
    auto text = read_text_file(path);
    if (!text) return unexpected(Problems{{"", std::move(text.error())}});
    auto result = parse_text(*text, path.has_parent_path() ? path.parent_path() : std::filesystem::path{});
    if (result) result->path = path;
    return result;
}

}  // namespace txflow::schedule_file
