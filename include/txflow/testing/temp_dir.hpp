#pragma once
/// @file
/// A scratch directory for a test: created fresh, removed with everything in
/// it at the end of the scope.

#include <filesystem>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

namespace txflow::testing {

/// A scratch directory, removed with its contents by the destructor.
class TXFLOW_EXPORT TempDir {
public:
    /// `<system temp dir>/txflow-<tag>-XXXXXX`. Throws std::filesystem::filesystem_error on failure.
    explicit TempDir(std::string_view tag = "test");
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    /// The directory.
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    /// A path inside the directory.
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace txflow::testing
