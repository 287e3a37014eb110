// The text form of a latency distribution:
//   count=5 sum=170 values=20:2,30:1,50:2
// (keys strictly increasing, each count >= 1; "values=" is empty when count=0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "latency_distribution.hpp"

namespace nz {

std::string format_distribution(const EncodedDistribution& d);

// Parses the text form into the binary form, validated as binary input is.
// Throws CoreError(invalid_text) for text that does not parse or describes
// an inconsistent value.
std::vector<uint8_t> parse_distribution(const std::string& text);

}  // namespace nz

#include "pure_cpp_only.hpp"
