// The extension's version.  It is written once, as default_version in
// nezuko_analytics.control; both builds pass it in as NZ_EXTENSION_VERSION.
#pragma once

#ifndef NZ_EXTENSION_VERSION
#error "NZ_EXTENSION_VERSION is not defined: build with the Makefile or CMakeLists.txt, which read it from nezuko_analytics.control"
#endif

namespace nz {
constexpr const char* kExtensionVersion = NZ_EXTENSION_VERSION;
}

#include "pure_cpp_only.hpp"
