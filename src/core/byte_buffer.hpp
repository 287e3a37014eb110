// Writing and reading the binary state of the dashboard aggregates (passed
// between parallel workers): varints, and length-prefixed byte strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <utility>
#include <vector>

#include "varint.hpp"

namespace nz {

class ByteWriter {
public:
    explicit ByteWriter(std::pmr::memory_resource* mr) : bytes_(mr) {}
    void u(uint64_t v) {
        uint8_t tmp[10];
        uint8_t* end = varint_put(tmp, v);
        bytes_.insert(bytes_.end(), tmp, end);
    }
    void s(int64_t v) { u(zigzag_encode(v)); }
    void raw(const uint8_t* data, std::size_t len) {
        u(len);
        bytes_.insert(bytes_.end(), data, data + len);
    }
    const std::pmr::vector<uint8_t>& bytes() const { return bytes_; }
    // Room for n bytes in all, before they come (no doubling on the way).
    void reserve(std::size_t n) { bytes_.reserve(n); }
    // The bytes themselves, moved out (the writer is empty after).
    std::pmr::vector<uint8_t> take() { return std::move(bytes_); }

private:
    std::pmr::vector<uint8_t> bytes_;
};

// Reads what ByteWriter wrote; every read is checked against the end.
class StateReader {
public:
    StateReader(const uint8_t* data, std::size_t len) : r_(data, len), data_(data), len_(len) {}
    uint64_t u(const char* what) { return r_.varint(what); }
    int64_t s(const char* what) { return zigzag_decode(r_.varint(what)); }
    // A length-prefixed byte string: pointer and length inside the buffer.
    const uint8_t* raw(const char* what, std::size_t* len) {
        uint64_t n = r_.varint(what);
        if (n > r_.remaining())
            throw CoreError(ErrorKind::corrupt_value, std::string("aggregate state is truncated (in ") + what + ")");
        const uint8_t* p = data_ + (len_ - r_.remaining());
        r_.skip(static_cast<std::size_t>(n), what);
        *len = static_cast<std::size_t>(n);
        return p;
    }
    bool at_end() const { return r_.at_end(); }
    std::size_t remaining() const { return r_.remaining(); }

private:
    ByteReader r_;
    const uint8_t* data_;
    std::size_t len_;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
