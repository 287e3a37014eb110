#include "latency_distribution.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "varint.hpp"
#include "pure_cpp_only.hpp"

namespace nz {

namespace {

int bit_length(uint64_t m) { return m == 0 ? 0 : 64 - __builtin_clzll(m); }

uint64_t magnitude(int32_t v) { return v < 0 ? static_cast<uint64_t>(-static_cast<int64_t>(v)) : static_cast<uint64_t>(v); }

[[noreturn]] void corrupt(const std::string& what) {
    throw CoreError(ErrorKind::corrupt_value, "invalid latency_dist value: " + what);
}

[[noreturn, gnu::noinline, gnu::cold]] void overflow(const char* what) {
    throw CoreError(ErrorKind::out_of_range, std::string("latency_dist ") + what + " overflows 64 bits");
}

// Inlined: they run for every value and every merged key.
[[gnu::always_inline]] inline void add_checked(uint64_t& total, uint64_t n) {
    if (__builtin_add_overflow(total, n, &total)) overflow("count");
}

[[gnu::always_inline]] inline void add_checked(int64_t& total, int64_t n) {
    if (__builtin_add_overflow(total, n, &total)) overflow("sum of latencies");
}

}  // namespace

int32_t quantize_latency(int32_t v) {
    uint64_t m = magnitude(v);
    if (m < static_cast<uint64_t>(kExactLimit)) return v;
    int drop = bit_length(m) - kExactBits;
    m &= ~((uint64_t{1} << drop) - 1);
    return v < 0 ? static_cast<int32_t>(-static_cast<int64_t>(m)) : static_cast<int32_t>(m);
}

int64_t key_span(int32_t key) {
    uint64_t m = magnitude(key);
    if (m < static_cast<uint64_t>(kExactLimit)) return 1;
    return int64_t{1} << (bit_length(m) - kExactBits);
}

// ---------------------------------------------------------------- encoded view

namespace {

// The header of the binary form: format, number of keys, count and sum
// (checked against the bytes that follow); r is left at the first key.
struct Header {
    std::size_t n_keys;
    uint64_t count;
    int64_t sum;
};

Header read_header(ByteReader& r) {
    uint8_t format = r.byte("format");
    if (format != kDistributionFormat)
        corrupt("unknown format " + std::to_string(format) + " (expected " + std::to_string(kDistributionFormat) + ")");
    uint64_t n_keys = r.varint("number of keys");
    Header h{0, r.varint("count"), zigzag_decode(r.varint("sum"))};
    // Each key/count pair takes at least two bytes.
    if (n_keys > r.remaining() / 2)
        corrupt("it claims " + std::to_string(n_keys) + " keys but only " + std::to_string(r.remaining()) +
                " bytes follow");
    h.n_keys = static_cast<std::size_t>(n_keys);
    return h;
}

// Every key/count pair after the header, checked (strictly increasing
// stored keys, counts >= 1 that add up to the count, a sum the keys allow),
// each handed to visit(key, count) as soon as it is read: one pass for
// checking and for merging.
template <typename Visit>
void check_keys(ByteReader& r, const Header& h, Visit&& visit) {
    uint64_t seen = 0;
    __int128 low = 0, high = 0;  // bounds of the true sum given the keys
    int64_t key = 0;
    for (std::size_t i = 0; i < h.n_keys; ++i) {
        uint64_t k = r.varint("key");
        if (i == 0) {
            key = zigzag_decode(k);
        } else {
            if (k == 0) corrupt("keys are not strictly increasing");
            if (k > UINT32_MAX) corrupt("a key is beyond the integer range");
            key += static_cast<int64_t>(k);  // |key| <= 2^31 and k < 2^32: no overflow
        }
        if (key < INT32_MIN || key > INT32_MAX) corrupt("a key is beyond the integer range");
        uint64_t c = r.varint("key count");
        if (c == 0) corrupt("key " + std::to_string(key) + " has a zero count");
        if (__builtin_add_overflow(seen, c, &seen)) corrupt("the key counts overflow");
        if (key > -kExactLimit && key < kExactLimit) {  // an exact key (nearly all): it is its own value
            low += static_cast<__int128>(key) * static_cast<__int128>(c);
            high += static_cast<__int128>(key) * static_cast<__int128>(c);
        } else {
            int32_t k32 = static_cast<int32_t>(key);
            if (quantize_latency(k32) != k32) corrupt("key " + std::to_string(key) + " is not a stored key");
            int64_t span = key_span(k32);
            __int128 lo_v = key >= 0 ? key : key - span + 1;
            __int128 hi_v = key >= 0 ? key + span - 1 : key;
            low += lo_v * static_cast<__int128>(c);
            high += hi_v * static_cast<__int128>(c);
        }
        visit(static_cast<int32_t>(key), c);
    }
    if (!r.at_end()) corrupt(std::to_string(r.remaining()) + " bytes follow the last key");
    if (seen != h.count)
        corrupt("count is " + std::to_string(h.count) + " but the keys count " + std::to_string(seen) + " values");
    if (static_cast<__int128>(h.sum) < low || static_cast<__int128>(h.sum) > high)
        corrupt("sum " + std::to_string(h.sum) + " does not match the keys");
}

}  // namespace

EncodedDistribution::EncodedDistribution(const uint8_t* data, std::size_t len) {
    ByteReader r(data, len);
    Header h = read_header(r);
    n_keys_ = h.n_keys;
    count_ = h.count;
    sum_ = h.sum;
    body_ = data + (len - r.remaining());
    body_len_ = r.remaining();
    check_keys(r, h, [](int32_t, uint64_t) {});
}

EncodedDistribution EncodedDistribution::trusted(const uint8_t* data, std::size_t len) {
    EncodedDistribution d;
    ByteReader r(data, len);
    Header h = read_header(r);  // cheap, and still bounds the keys by the bytes
    d.n_keys_ = h.n_keys;
    d.count_ = h.count;
    d.sum_ = h.sum;
    d.body_ = data + (len - r.remaining());
    d.body_len_ = r.remaining();
    return d;
}

bool EncodedDistribution::lowest(int32_t* out) const {
    if (n_keys_ == 0) return false;
    const uint8_t* p = body_;  // checked by the constructor (or written by encode_to())
    *out = static_cast<int32_t>(zigzag_decode(varint_validated(p)));
    return true;
}

bool EncodedDistribution::percentile(double p, double* out) const {
    if (std::isnan(p) || p < 0.0 || p > 1.0)
    {
        std::ostringstream shown;  // as PostgreSQL prints it (%g)
        shown << p;
        throw CoreError(ErrorKind::out_of_range, "percentile value " + shown.str() + " is not between 0 and 1");
    }
    if (count_ == 0) return false;
    // The same arithmetic as PostgreSQL's percentile_cont (orderedsetaggs.c).
    double rank = p * static_cast<double>(count_ - 1);
    int64_t first = static_cast<int64_t>(std::floor(rank));
    int64_t second = static_cast<int64_t>(std::ceil(rank));
    double proportion = rank - static_cast<double>(first);
    double lo = 0, hi = 0;
    bool have_lo = false, have_hi = false;
    uint64_t before = 0;
    for_each([&](int32_t key, uint64_t c) {
        if (have_hi) return;
        uint64_t after = before + c;
        if (!have_lo && static_cast<uint64_t>(first) < after) { lo = key; have_lo = true; }
        if (static_cast<uint64_t>(second) < after) { hi = key; have_hi = true; }
        before = after;
    });
    *out = first == second ? lo : lo + (proportion * (hi - lo));
    return true;
}

bool EncodedDistribution::mean(double* out) const {
    if (count_ == 0) return false;
    *out = static_cast<double>(sum_) / static_cast<double>(count_);
    return true;
}

// ---------------------------------------------------------------- accumulator

LatencyDistribution::LatencyDistribution(std::pmr::memory_resource* mr) : dense_(mr), slots_(mr), sorted_(mr) {}

void LatencyDistribution::clear() {
    // back to a new distribution's form (no flat array, no table: a small
    // one must not scan 2048 entries to encode), the vectors keeping their
    // memory for make_dense() and grow() to take again
    dense_.clear();
    slots_.clear();
    dense_used_ = 0;
    used_ = 0;
    log2_capacity_ = 0;
    count_ = 0;
    sum_ = 0;
}

std::size_t LatencyDistribution::home(int32_t key) const {
    uint32_t h = static_cast<uint32_t>(key) * 2654435769u;
    return log2_capacity_ == 0 ? 0 : h >> (32 - log2_capacity_);
}

void LatencyDistribution::grow() {
    unsigned bits = log2_capacity_ == 0 ? 6 : log2_capacity_ + 1;
    std::pmr::vector<Slot> old(slots_.get_allocator());
    old.swap(slots_);
    slots_.assign(std::size_t{1} << bits, Slot{0, 0});
    log2_capacity_ = bits;
    std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
        if (s.count == 0) continue;
        std::size_t i = home(s.key);
        while (slots_[i].count != 0) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

void LatencyDistribution::make_dense() {
    dense_.assign(kDenseLimit, 0);
    std::pmr::vector<Slot> old(slots_.get_allocator());
    old.swap(slots_);
    used_ = 0;
    log2_capacity_ = 0;
    for (const Slot& s : old) {
        if (s.count == 0) continue;
        if (s.key >= 0 && s.key < kDenseLimit) {
            dense_[static_cast<std::size_t>(s.key)] = s.count;
            ++dense_used_;
        } else {
            insert_sparse(s.key, s.count);
        }
    }
}

void LatencyDistribution::add_key(int32_t key, uint64_t n) {
    uint64_t total = count_;
    add_checked(total, n);  // then no key's count can overflow
    // the flat array once a small key comes to a distribution of kDenseAfter values
    if (key >= 0 && key < kDenseLimit) dense_for(count_);
    add_merged_key(key, n);
    count_ = total;
}

uint64_t LatencyDistribution::begin_merge(uint64_t n) {
    uint64_t total = count_;
    add_checked(total, n);
    dense_for(total);
    return total;
}

void LatencyDistribution::dense_for(uint64_t total) {
    if (dense_.empty() && total >= kDenseAfter) make_dense();
}

void LatencyDistribution::add_merged_key(int32_t key, uint64_t n) {
    // the caller checked the new count (begin_merge(), add_key()): no key's
    // count can overflow
    if (!dense_.empty() && key >= 0 && key < kDenseLimit) {
        uint64_t& c = dense_[static_cast<std::size_t>(key)];
        dense_used_ += c == 0;
        c += n;
        return;
    }
    insert_sparse(key, n);
}

void LatencyDistribution::insert_sparse(int32_t key, uint64_t n) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    std::size_t i = home(key);
    for (;;) {
        Slot& s = slots_[i];
        if (s.count == 0) {
            s.key = key;
            s.count = n;
            ++used_;
            break;
        }
        if (s.key == key) {
            add_checked(s.count, n);
            break;
        }
        i = (i + 1) & mask;
    }
}

void LatencyDistribution::add(int32_t value) {
    add_checked(sum_, static_cast<int64_t>(value));
    add_key(quantize_latency(value), 1);
}

void LatencyDistribution::merge(const LatencyDistribution& other) {
    add_checked(sum_, other.sum_);
    uint64_t total = begin_merge(other.count_);
    for (std::size_t k = 0; k < other.dense_.size(); ++k)
        if (other.dense_[k] != 0) add_merged_key(static_cast<int32_t>(k), other.dense_[k]);
    for (const Slot& s : other.slots_)
        if (s.count != 0) add_merged_key(s.key, s.count);
    count_ = total;
}

void LatencyDistribution::add_sum(int64_t v) { add_checked(sum_, v); }

void LatencyDistribution::merge(const EncodedDistribution& other) {
    add_checked(sum_, other.sum());
    uint64_t total = begin_merge(other.count());
    other.for_each([this](int32_t key, uint64_t c) { add_merged_key(key, c); });
    count_ = total;
}

void LatencyDistribution::merge_encoded(const uint8_t* data, std::size_t len) {
    ByteReader r(data, len);
    Header h = read_header(r);
    uint64_t total = 0;
    int64_t sum = 0;
    if (__builtin_add_overflow(count_, h.count, &total) || __builtin_add_overflow(sum_, h.sum, &sum)) {
        // the errors in merge()'s order: malformed bytes first, then the overflow
        merge(EncodedDistribution(data, len));
        return;
    }
    dense_for(total);
    check_keys(r, h, [this](int32_t key, uint64_t c) { add_merged_key(key, c); });
    count_ = total;
    sum_ = sum;
}

std::size_t LatencyDistribution::prepare_encoding() const {
    sorted_.clear();
    sorted_.reserve(used_ + dense_used_);
    for (std::size_t k = 0; k < dense_.size(); ++k)
        if (dense_[k] != 0) sorted_.push_back(Slot{static_cast<int32_t>(k), dense_[k]});
    for (const Slot& s : slots_)
        if (s.count != 0) sorted_.push_back(s);
    std::sort(sorted_.begin(), sorted_.end(), [](const Slot& a, const Slot& b) { return a.key < b.key; });
    std::size_t size = 1 + varint_size(sorted_.size()) + varint_size(count_) + varint_size(zigzag_encode(sum_));
    int64_t prev = 0;
    for (std::size_t i = 0; i < sorted_.size(); ++i) {
        int64_t key = sorted_[i].key;
        size += varint_size(i == 0 ? zigzag_encode(key) : static_cast<uint64_t>(key - prev));
        size += varint_size(sorted_[i].count);
        prev = key;
    }
    return size;
}

void LatencyDistribution::encode_to(uint8_t* out) const {
    *out++ = kDistributionFormat;
    out = varint_put(out, sorted_.size());
    out = varint_put(out, count_);
    out = varint_put(out, zigzag_encode(sum_));
    int64_t prev = 0;
    for (std::size_t i = 0; i < sorted_.size(); ++i) {
        int64_t key = sorted_[i].key;
        out = varint_put(out, i == 0 ? zigzag_encode(key) : static_cast<uint64_t>(key - prev));
        out = varint_put(out, sorted_[i].count);
        prev = key;
    }
}

}  // namespace nz
