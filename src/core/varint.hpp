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

// A varint of bytes already validated (by a ByteReader pass): no end check.
inline uint64_t varint_validated(const uint8_t*& p) {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = *p++;
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

class ByteReader {
public:
    // kind names the value in errors ("latency_dist value", "group counts").
    ByteReader(const uint8_t* data, std::size_t len, const char* kind = "latency_dist value")
        : p_(data), end_(data + len), kind_(kind) {}

    uint8_t byte(const char* what) {
        if (p_ >= end_) truncated(kind_, what);
        return *p_++;
    }
    // Small enough to inline: one or two bytes (most counts and key deltas)
    // read directly, longer ones and the end of the buffer out of line.
    uint64_t varint(const char* what) {
        if (end_ - p_ >= 2) {
            if (!(p_[0] & 0x80)) return *p_++;
            if (!(p_[1] & 0x80)) {
                uint64_t v = (p_[0] & 0x7fu) | static_cast<uint64_t>(p_[1]) << 7;
                p_ += 2;
                return v;
            }
        }
        return varint_long(what);
    }
    std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
    // Past n bytes (at most remaining(), else truncated).
    void skip(std::size_t n, const char* what) {
        if (n > remaining()) truncated(kind_, what);
        p_ += n;
    }
    bool at_end() const { return p_ == end_; }

private:
    [[gnu::noinline]] uint64_t varint_long(const char* what) {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            uint8_t b = byte(what);
            if (shift == 63 && (b & 0x7e)) bad(kind_, what, " overflows 64 bits");
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        bad(kind_, what, " is longer than 10 bytes");
    }
    [[noreturn, gnu::noinline, gnu::cold]] static void bad(const char* kind, const char* what, const char* why) {
        throw CoreError(ErrorKind::corrupt_value, std::string(kind) + ": " + what + why);
    }
    [[noreturn, gnu::noinline, gnu::cold]] static void truncated(const char* kind, const char* what) {
        throw CoreError(ErrorKind::corrupt_value, std::string(kind) + " is truncated (in " + what + ")");
    }
    const uint8_t* p_;
    const uint8_t* end_;
    const char* kind_;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
