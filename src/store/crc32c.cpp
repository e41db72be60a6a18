#include "store/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define TXFLOW_CRC32C_X86 1
#else
#define TXFLOW_CRC32C_X86 0
#endif

namespace txflow::store::detail {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

// kTables[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-8).
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t crc = b;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kPolynomial : 0u);
        t[0][b] = crc;
    }
    for (std::size_t b = 0; b < 256; ++b) {
        for (std::size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
    }
    return t;
}

constexpr auto kTables = make_tables();

std::uint64_t load_u64_le(const unsigned char* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

#if TXFLOW_CRC32C_X86
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t crc, const unsigned char* p,
                                                             std::size_t n) noexcept {
    std::uint32_t c = ~crc;
#if defined(__x86_64__)
    std::uint64_t c64 = c;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);  // x86 is little-endian
        c64 = _mm_crc32_u64(c64, word);
    }
    c = static_cast<std::uint32_t>(c64);
#endif
    for (; n >= 4; n -= 4, p += 4) {
        std::uint32_t word = 0;
        std::memcpy(&word, p, 4);
        c = _mm_crc32_u32(c, word);
    }
    for (; n > 0; --n, ++p) c = _mm_crc32_u8(c, *p);
    return ~c;
}
#endif

using Crc32cFn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t) noexcept;

Crc32cFn pick() noexcept {
    return crc32c_hardware_available() ? &crc32c_hardware : &crc32c_portable;
}

}  // namespace

std::uint32_t crc32c_portable(std::uint32_t crc, const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~crc;
    for (; size >= 8; size -= 8, p += 8) {
        const std::uint64_t v = load_u64_le(p) ^ c;
        c = kTables[7][v & 0xFFu] ^ kTables[6][(v >> 8) & 0xFFu] ^ kTables[5][(v >> 16) & 0xFFu] ^
            kTables[4][(v >> 24) & 0xFFu] ^ kTables[3][(v >> 32) & 0xFFu] ^ kTables[2][(v >> 40) & 0xFFu] ^
            kTables[1][(v >> 48) & 0xFFu] ^ kTables[0][v >> 56];
    }
    for (; size > 0; --size, ++p) c = (c >> 8) ^ kTables[0][(c ^ *p) & 0xFFu];
    return ~c;
}

bool crc32c_hardware_available() noexcept {
#if TXFLOW_CRC32C_X86
    static const bool available = [] {
        __builtin_cpu_init();  // may run before the CPU model is initialised (static init)
        return __builtin_cpu_supports("sse4.2") != 0;
    }();
    return available;
#else
    return false;
#endif
}

std::uint32_t crc32c_hardware(std::uint32_t crc, const void* data, std::size_t size) noexcept {
#if TXFLOW_CRC32C_X86
    return crc32c_sse42(crc, static_cast<const unsigned char*>(data), size);
#else
    return crc32c_portable(crc, data, size);
#endif
}

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) noexcept {
    static const Crc32cFn fn = pick();
    return fn(crc, data, size);
}

}  // namespace txflow::store::detail
