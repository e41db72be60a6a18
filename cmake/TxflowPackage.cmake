# Install rules and the CMake package (find_package(txflow) -> txflow::txflow and
# txflow::testing, the test kit).

include(CMakePackageConfigHelpers)

set(TXFLOW_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/txflow"
    CACHE STRING "Where to install txflowConfig.cmake")

install(TARGETS txflow txflow_testing
    EXPORT txflowTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")

install(EXPORT txflowTargets
    FILE txflowTargets.cmake
    NAMESPACE txflow::
    DESTINATION ${TXFLOW_INSTALL_CMAKEDIR})

if(TXFLOW_SYSTEMD_FOUND)
    set(TXFLOW_SYSTEMD_FOUND_01 1)
    set(TXFLOW_PC_SYSTEMD " libsystemd")
else()
    set(TXFLOW_SYSTEMD_FOUND_01 0)
    set(TXFLOW_PC_SYSTEMD "")
endif()
configure_package_config_file(
    "${PROJECT_SOURCE_DIR}/cmake/txflowConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/txflowConfig.cmake"
    INSTALL_DESTINATION ${TXFLOW_INSTALL_CMAKEDIR})

write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/txflowConfigVersion.cmake"
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMinorVersion)  # 0.x: minor versions may break

install(FILES
    "${PROJECT_BINARY_DIR}/txflowConfig.cmake"
    "${PROJECT_BINARY_DIR}/txflowConfigVersion.cmake"
    DESTINATION ${TXFLOW_INSTALL_CMAKEDIR})
# txflowConfig.cmake finds xxHash (linked privately) with it.
install(FILES "${PROJECT_SOURCE_DIR}/cmake/FindxxHash.cmake" DESTINATION ${TXFLOW_INSTALL_CMAKEDIR})

# Lets another project use this build tree directly (no install needed).
export(EXPORT txflowTargets
    FILE "${PROJECT_BINARY_DIR}/txflowTargets.cmake"
    NAMESPACE txflow::)

# pkg-config users: txflow.pc (cmake/txflow.pc.in). The prefix is found from
# the .pc file's own place (${pcfiledir}), so `cmake --install --prefix DIR`
# and a relocated tree work; absolute install dirs are kept as they are.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(TXFLOW_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
    file(RELATIVE_PATH TXFLOW_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
    set(TXFLOW_PC_PREFIX "\${pcfiledir}/${TXFLOW_PC_UP}")
endif()
foreach(kind LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
        set(TXFLOW_PC_${kind} "${CMAKE_INSTALL_${kind}}")
    else()
        set(TXFLOW_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
    endif()
endforeach()
configure_file("${PROJECT_SOURCE_DIR}/cmake/txflow.pc.in" "${PROJECT_BINARY_DIR}/txflow.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/txflow.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
