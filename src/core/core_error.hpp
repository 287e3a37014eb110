// The one exception type the core throws.  The kind says what went wrong in
// terms the PostgreSQL layer maps to an SQLSTATE; the message is for the user.
#pragma once

#include <stdexcept>
#include <string>

namespace nz {

enum class ErrorKind {
    invalid_argument,      // a caller passed a value outside the documented domain
    out_of_range,          // a computed value does not fit its type
    corrupt_value,         // a serialized value is malformed, truncated or inconsistent
    invalid_text,          // a value's text form cannot be parsed
};

class CoreError : public std::runtime_error {
public:
    CoreError(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
