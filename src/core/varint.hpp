// LEB128 varints and zigzag for the compact binary form of a distribution.
// The reader checks every byte against the end of its buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core_error.hpp"

namespace nz {

inline uint64_t zigzag_encode(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t zigzag_decode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

inline std::size_t varint_size(uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) { v >>= 7; ++n; }
    return n;
}

inline uint8_t* varint_put(uint8_t* out, uint64_t v) {
    while (v >= 0x80) {
        *out++ = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
    }
    *out++ = static_cast<uint8_t>(v);
    return out;
}

class ByteReader {
public:
    ByteReader(const uint8_t* data, std::size_t len) : p_(data), end_(data + len) {}

    uint8_t byte(const char* what) {
        if (p_ >= end_) truncated(what);
        return *p_++;
    }
    uint64_t varint(const char* what) {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            uint8_t b = byte(what);
            if (shift == 63 && (b & 0x7e))
                throw CoreError(ErrorKind::corrupt_value, std::string("latency_dist value: ") + what + " overflows 64 bits");
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        throw CoreError(ErrorKind::corrupt_value, std::string("latency_dist value: ") + what + " is longer than 10 bytes");
    }
    std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
    bool at_end() const { return p_ == end_; }

private:
    [[noreturn]] static void truncated(const char* what) {
        throw CoreError(ErrorKind::corrupt_value, std::string("latency_dist value is truncated (in ") + what + ")");
    }
    const uint8_t* p_;
    const uint8_t* end_;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
