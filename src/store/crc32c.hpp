#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
// WAL's records and files. Debian ships no crc32c library, so: the SSE4.2
// `crc32` instruction when the CPU has it (chosen at run time, so the build
// needs no -msse4.2), else a portable slicing-by-8 table.
//
// All functions *extend* a CRC: crc32c(crc32c(0, a), b) == crc32c(0, a + b),
// and crc32c(0, "123456789") == 0xE3069283 (RFC 3720, B.4).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "txflow/core/export.hpp"

namespace txflow::store::detail {

// The fastest implementation this CPU supports.
[[nodiscard]] TXFLOW_EXPORT std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) noexcept;
[[nodiscard]] inline std::uint32_t crc32c(std::uint32_t crc, std::string_view bytes) noexcept {
    return crc32c(crc, bytes.data(), bytes.size());
}

// The two paths, for tests and benchmarks.
[[nodiscard]] TXFLOW_EXPORT std::uint32_t crc32c_portable(std::uint32_t crc, const void* data,
                                                          std::size_t size) noexcept;
[[nodiscard]] TXFLOW_EXPORT bool crc32c_hardware_available() noexcept;
// Only call when crc32c_hardware_available().
[[nodiscard]] TXFLOW_EXPORT std::uint32_t crc32c_hardware(std::uint32_t crc, const void* data,
                                                          std::size_t size) noexcept;

}  // namespace txflow::store::detail
