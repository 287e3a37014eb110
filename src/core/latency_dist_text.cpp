#include "latency_dist_text.hpp"

#include <cerrno>
#include <cstdlib>

#include "varint.hpp"
#include "pure_cpp_only.hpp"

namespace nz {

namespace {

[[noreturn]] void bad_text(const std::string& why) {
    throw CoreError(ErrorKind::invalid_text,
                    "invalid input syntax for type latency_dist: " + why +
                        " (expected \"count=N sum=S values=KEY:COUNT,...\")");
}

class TextReader {
public:
    explicit TextReader(const std::string& s) : s_(s) {}
    void skip_spaces() { while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_; }
    void expect(const char* word) {
        skip_spaces();
        std::size_t n = std::char_traits<char>::length(word);
        if (s_.compare(i_, n, word) != 0) bad_text(std::string("\"") + word + "\" missing at position " + std::to_string(i_ + 1));
        i_ += n;
    }
    bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
    void take(char c) {
        if (!peek(c)) bad_text(std::string("'") + c + "' expected at position " + std::to_string(i_ + 1));
        ++i_;
    }
    int64_t integer(const char* what, int64_t lo, int64_t hi) {
        std::size_t start = i_;
        if (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) ++i_;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        std::string digits = s_.substr(start, i_ - start);
        if (digits.empty() || digits == "-" || digits == "+") bad_text(std::string(what) + " is not a number at position " + std::to_string(start + 1));
        errno = 0;
        long long v = std::strtoll(digits.c_str(), nullptr, 10);
        if (errno == ERANGE || v < lo || v > hi) bad_text(std::string(what) + " " + digits + " is out of range");
        return v;
    }
    bool done() {
        skip_spaces();
        return i_ == s_.size();
    }
    bool at_value_end() const { return i_ == s_.size() || s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n'; }

private:
    const std::string& s_;
    std::size_t i_ = 0;
};

}  // namespace

std::string format_distribution(const EncodedDistribution& d) {
    std::string out = "count=" + std::to_string(d.count()) + " sum=" + std::to_string(d.sum()) + " values=";
    bool first = true;
    d.for_each([&](int32_t key, uint64_t c) {
        if (!first) out += ',';
        first = false;
        out += std::to_string(key);
        out += ':';
        out += std::to_string(c);
    });
    return out;
}

std::vector<uint8_t> parse_distribution(const std::string& text) {
    TextReader r(text);
    r.expect("count=");
    int64_t count = r.integer("count", 0, INT64_MAX);
    r.expect("sum=");
    int64_t sum = r.integer("sum", INT64_MIN, INT64_MAX);
    r.expect("values=");
    std::vector<std::pair<int64_t, int64_t>> pairs;
    while (!r.at_value_end()) {
        if (!pairs.empty()) r.take(',');
        int64_t key = r.integer("key", INT32_MIN, INT32_MAX);
        r.take(':');
        int64_t c = r.integer("count of a key", 1, INT64_MAX);
        if (!pairs.empty() && key <= pairs.back().first)
            throw CoreError(ErrorKind::invalid_text, "invalid latency_dist value: keys are not strictly increasing (" +
                                                          std::to_string(pairs.back().first) + " then " +
                                                          std::to_string(key) + ")");
        pairs.emplace_back(key, c);
    }
    if (!r.done()) bad_text("unexpected text after the values");

    std::vector<uint8_t> out(1 + 10 * 3 + pairs.size() * 20);
    uint8_t* p = out.data();
    *p++ = kDistributionFormat;
    p = varint_put(p, pairs.size());
    p = varint_put(p, static_cast<uint64_t>(count));
    p = varint_put(p, zigzag_encode(sum));
    int64_t prev = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        p = varint_put(p, i == 0 ? zigzag_encode(pairs[i].first) : static_cast<uint64_t>(pairs[i].first - prev));
        p = varint_put(p, static_cast<uint64_t>(pairs[i].second));
        prev = pairs[i].first;
    }
    out.resize(static_cast<std::size_t>(p - out.data()));
    try {
        EncodedDistribution check(out.data(), out.size());  // counts, keys and sum must agree
        (void) check;
    } catch (const CoreError& e) {
        throw CoreError(ErrorKind::invalid_text, e.what());  // reported as bad text, not bad bytes
    }
    return out;
}

}  // namespace nz
