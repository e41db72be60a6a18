// CRC32C: both implementations against RFC 3720's vectors and each other.

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "store/crc32c.hpp"

namespace crc32c_test {

namespace {

using namespace txflow::store::detail;

struct Vector {
    const char* name;
    std::string bytes;
    std::uint32_t crc;
};

std::vector<Vector> rfc3720_vectors() {
    std::string ascending(32, '\0');
    std::string descending(32, '\0');
    for (int i = 0; i < 32; ++i) {
        ascending[static_cast<std::size_t>(i)] = static_cast<char>(i);
        descending[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
    }
    return {
        {"\"123456789\"", "123456789", 0xE3069283u},
        {"32 zeros", std::string(32, '\0'), 0x8A9136AAu},
        {"32 x 0xFF", std::string(32, '\xff'), 0x62A8AB43u},
        {"0..31", ascending, 0x46DD794Eu},
        {"31..0", descending, 0x113FDB5Cu},
        {"empty", "", 0u},
    };
}

}  // namespace

TEST_CASE("crc32c: the portable table matches RFC 3720", "[store][wal][crc32c]") {
    for (const auto& v : rfc3720_vectors()) {
        INFO(v.name);
        CHECK(crc32c_portable(0, v.bytes.data(), v.bytes.size()) == v.crc);
    }
}

TEST_CASE("crc32c: the SSE4.2 instruction matches RFC 3720", "[store][wal][crc32c]") {
    if (!crc32c_hardware_available()) {
        WARN("no SSE4.2 on this CPU: hardware path not tested");
        return;
    }
    for (const auto& v : rfc3720_vectors()) {
        INFO(v.name);
        CHECK(crc32c_hardware(0, v.bytes.data(), v.bytes.size()) == v.crc);
    }
    CHECK(crc32c(0, std::string_view("123456789")) == 0xE3069283u);  // the dispatched one
}

TEST_CASE("crc32c: both paths agree at every length and alignment, and extend", "[store][wal][crc32c]") {
    std::mt19937 rng(42);
    std::string buffer(1100, '\0');
    for (auto& c : buffer) c = static_cast<char>(rng());
    for (std::size_t offset = 0; offset < 8; ++offset) {
        for (std::size_t size = 0; size + offset <= 1024; size += (size < 64 ? 1 : 37)) {
            const char* p = buffer.data() + offset;
            const std::uint32_t expected = crc32c_portable(0, p, size);
            if (crc32c_hardware_available()) REQUIRE(crc32c_hardware(0, p, size) == expected);
            REQUIRE(crc32c(0, p, size) == expected);
            const std::size_t half = size / 3;
            REQUIRE(crc32c(crc32c(0, p, half), p + half, size - half) == expected);
            REQUIRE(crc32c_portable(crc32c_portable(0, p, half), p + half, size - half) == expected);
        }
    }
}

}  // namespace crc32c_test
