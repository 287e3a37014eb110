// The statuses of verification_log that the charts count.
#pragma once

#include <cstddef>
#include <cstring>

namespace nz {

enum class VerificationStatus : int { verified = 0, restricted = 1, error = 2, other = 3 };
// verified, restricted and error: the statuses with a count of their own.
constexpr int kCountedStatuses = 3;

// Inline: the native scans classify every row.
inline VerificationStatus classify_status(const char* text, std::size_t len) noexcept {
    switch (len) {
        case 8: return std::memcmp(text, "verified", 8) == 0 ? VerificationStatus::verified : VerificationStatus::other;
        case 10: return std::memcmp(text, "restricted", 10) == 0 ? VerificationStatus::restricted : VerificationStatus::other;
        case 5: return std::memcmp(text, "error", 5) == 0 ? VerificationStatus::error : VerificationStatus::other;
        default: return VerificationStatus::other;
    }
}

}  // namespace nz

#include "pure_cpp_only.hpp"
