# FindxxHash: the xxHash library (Debian: libxxhash-dev), as xxHash::xxhash.
#
# xxHash 0.8.2+ installs its own CMake package (same target name), which is
# tried first; Debian 12's 0.8.1 ships only a pkg-config file, so otherwise
# the header and library are found directly (no pkg-config needed).
# Installed next to txflowConfig.cmake: a static txflow links it privately,
# so its users need the target too.
#
# Sets xxHash_FOUND, xxHash_VERSION, and the imported target xxHash::xxhash.

find_package(xxHash CONFIG QUIET)
if(xxHash_FOUND AND TARGET xxHash::xxhash)
    include(FindPackageHandleStandardArgs)
    find_package_handle_standard_args(xxHash CONFIG_MODE)
    return()
endif()

find_path(XXHASH_INCLUDE_DIR NAMES xxhash.h)
find_library(XXHASH_LIBRARY NAMES xxhash)

if(XXHASH_INCLUDE_DIR AND EXISTS "${XXHASH_INCLUDE_DIR}/xxhash.h")
    file(STRINGS "${XXHASH_INCLUDE_DIR}/xxhash.h" _xxhash_version_lines
        REGEX "^#define XXH_VERSION_(MAJOR|MINOR|RELEASE)[ \t]+[0-9]+")
    foreach(_part MAJOR MINOR RELEASE)
        string(REGEX REPLACE ".*XXH_VERSION_${_part}[ \t]+([0-9]+).*" "\\1" _xxhash_${_part}
            "${_xxhash_version_lines}")
    endforeach()
    set(xxHash_VERSION "${_xxhash_MAJOR}.${_xxhash_MINOR}.${_xxhash_RELEASE}")
    unset(_xxhash_version_lines)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(xxHash
    REQUIRED_VARS XXHASH_LIBRARY XXHASH_INCLUDE_DIR
    VERSION_VAR xxHash_VERSION)

if(xxHash_FOUND AND NOT TARGET xxHash::xxhash)
    add_library(xxHash::xxhash UNKNOWN IMPORTED)
    set_target_properties(xxHash::xxhash PROPERTIES
        IMPORTED_LOCATION "${XXHASH_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${XXHASH_INCLUDE_DIR}")
endif()
mark_as_advanced(XXHASH_INCLUDE_DIR XXHASH_LIBRARY)
