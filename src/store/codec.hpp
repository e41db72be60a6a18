#pragma once
// The byte encoding of record payloads and snapshots: LEB128 varints,
// zigzag for signed values, length-prefixed strings. Reading never trusts a
// length: a Reader that runs past its end turns not-ok and yields zeros, so a
// torn or forged payload is reported, never read out of bounds.

#include <cstdint>
#include <string>
#include <string_view>

namespace txflow::store::codec {

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<char>(v));
    }
    void svarint(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
    void str(std::string_view s) {
        varint(s.size());
        out_.append(s);
    }

private:
    std::string& out_;
};

class Reader {
public:
    explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] bool done() const { return p_ == end_; }
    std::uint8_t u8() {
        if (p_ == end_) return fail(), 0;
        return static_cast<std::uint8_t>(*p_++);
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p_ == end_) return fail(), 0;
            const auto byte = static_cast<std::uint8_t>(*p_++);
            v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) return v;
        }
        return fail(), 0;
    }
    std::int64_t svarint() {
        const std::uint64_t z = varint();
        return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
    }
    std::string_view str() {
        const std::uint64_t n = varint();
        if (!ok_ || n > static_cast<std::uint64_t>(end_ - p_)) return fail(), std::string_view{};
        std::string_view s(p_, static_cast<std::size_t>(n));
        p_ += n;
        return s;
    }

private:
    void fail() {
        ok_ = false;
        p_ = end_;
    }
    const char* p_;
    const char* end_;
    bool ok_ = true;
};

}  // namespace txflow::store::codec
