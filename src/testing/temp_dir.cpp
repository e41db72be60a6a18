// A scratch directory, made with mkdtemp so parallel tests never share one.

#include "txflow/testing/temp_dir.hpp"

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <system_error>

namespace txflow::testing {

TempDir::TempDir(std::string_view tag) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("txflow-" + std::string(tag) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw std::filesystem::filesystem_error("TempDir: mkdtemp", tmpl,
                                                std::error_code(errno, std::generic_category()));
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace txflow::testing
