#include "deferred_distribution.hpp"

namespace nz {

LatencyDistribution& DeferredDistribution::built() {
    if (deferred_) {
        dist_.merge(EncodedDistribution(bytes_.data(), bytes_.size()));
        bytes_.clear();
        deferred_ = false;
    }
    return dist_;
}

void DeferredDistribution::merge(const uint8_t* data, std::size_t len) {
    EncodedDistribution e(data, len);
    if (!deferred_ && dist_.count() == 0 && dist_.distinct() == 0) {
        bytes_.assign(data, data + len);
        deferred_ = true;
        count_ = e.count();
        sum_ = e.sum();
        return;
    }
    built().merge(e);
}

void DeferredDistribution::merge(const DeferredDistribution& other) {
    if (other.deferred_)
        merge(other.bytes_.data(), other.bytes_.size());
    else
        built().merge(other.dist_);
}

bool DeferredDistribution::percentile(double p, double* out) const {
    if (deferred_) return EncodedDistribution(bytes_.data(), bytes_.size()).percentile(p, out);
    if (dist_.count() == 0) return false;
    std::pmr::vector<uint8_t> buf(bytes_.get_allocator());
    encode(buf);
    return EncodedDistribution(buf.data(), buf.size()).percentile(p, out);
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
