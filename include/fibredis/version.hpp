// The fibredis version this header belongs to, for code that must build against several releases.
// meson.build refuses to configure when these disagree with project(version : ...), so the header,
// the soname and fibredis.pc always tell the same version.
#pragma once

#define FIBREDIS_VERSION_MAJOR 0
#define FIBREDIS_VERSION_MINOR 1
#define FIBREDIS_VERSION_PATCH 0
#define FIBREDIS_VERSION_STRING "0.1.0"
/// One number that orders releases: MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 -> 100).
#define FIBREDIS_VERSION (FIBREDIS_VERSION_MAJOR * 10000 + FIBREDIS_VERSION_MINOR * 100 + FIBREDIS_VERSION_PATCH)
