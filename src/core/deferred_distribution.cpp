#include "deferred_distribution.hpp"

namespace nz {

LatencyDistribution& DeferredDistribution::built() {
    if (deferred_) {
        dist_.merge(EncodedDistribution::trusted(bytes_.data(), bytes_.size()));  // checked by merge()
        bytes_.clear();
        deferred_ = false;
    }
    return dist_;
}

bool DeferredDistribution::empty() const { return !deferred_ && dist_.count() == 0 && dist_.distinct() == 0; }

void DeferredDistribution::keep(const uint8_t* data, std::size_t len, uint64_t count, int64_t sum) {
    bytes_.assign(data, data + len);
    deferred_ = true;
    count_ = count;
    sum_ = sum;
}

void DeferredDistribution::merge(const uint8_t* data, std::size_t len) {
    if (empty()) {
        EncodedDistribution e(data, len);
        keep(data, len, e.count(), e.sum());
        return;
    }
    built().merge_encoded(data, len);
}

void DeferredDistribution::merge(const DeferredDistribution& other) {
    if (!other.deferred_)
        built().merge(other.dist_);
    else if (empty())  // its bytes, checked when they came
        keep(other.bytes_.data(), other.bytes_.size(), other.count_, other.sum_);
    else
        built().merge(EncodedDistribution::trusted(other.bytes_.data(), other.bytes_.size()));
}

bool DeferredDistribution::percentile(double p, double* out) const {
    if (deferred_) return EncodedDistribution::trusted(bytes_.data(), bytes_.size()).percentile(p, out);
    if (dist_.count() == 0) return false;
    std::pmr::vector<uint8_t> buf(bytes_.get_allocator());
    encode(buf);
    return EncodedDistribution::trusted(buf.data(), buf.size()).percentile(p, out);
}

void DeferredDistribution::encode(std::pmr::vector<uint8_t>& out) const {
    if (deferred_) {
        out.assign(bytes_.begin(), bytes_.end());
        return;
    }
    out.resize(dist_.prepare_encoding());
    dist_.encode_to(out.data());
}

}  // namespace nz
