#pragma once
/// @file
/// The file rules of the daemon (docs/daemon.md), each refusal naming the fix:
///
///     if (auto why = txflow::daemon::unsafe_schedule_file(path)) fail(*why);
///     auto secret = txflow::daemon::read_secret("/run/credentials/pg");   // or the reason
///
/// - A daemon running as root runs a schedule file only when root owns it and
///   neither group nor others may write it (cron's rule for crontabs): whoever
///   can edit the file can run commands as root.
/// - A secret file ("env": {"X": {"file": ...}}) must be a regular file that
///   neither group nor others may read or write, at most kMaxSecretBytes; one
///   trailing newline is dropped. Its contents never reach a log.
/// (The state directory's rules are WalStore's: created 0700, files 0600, and
/// a directory that group or others may write is refused.)

#include <filesystem>
#include <optional>
#include <string>
#include "txflow/core/export.hpp"

#include "txflow/result.hpp"

namespace txflow::daemon {

/// Why `path` must not be run by this process, or nullopt. Only a daemon
/// whose effective user is root checks anything.
[[nodiscard]] TXFLOW_EXPORT std::optional<std::string> unsafe_schedule_file(const std::filesystem::path& path);

/// The value of a secret file, or why it is refused ("secret file
/// /run/credentials/pg is readable by group or others (mode 0644): run `chmod
/// 600 /run/credentials/pg`"). The reason never contains the file's contents.
[[nodiscard]] TXFLOW_EXPORT Result<std::string, std::string> read_secret(const std::filesystem::path& path);

}  // namespace txflow::daemon
