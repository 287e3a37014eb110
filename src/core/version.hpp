// The extension's version, as the control file and the SQL scripts name it.
#pragma once

namespace nz {
constexpr const char* kExtensionVersion = "1.1";
}

#include "pure_cpp_only.hpp"
