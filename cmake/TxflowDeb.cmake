# The Debian package (`cpack -G DEB` in a build tree, docs/packaging.md): the
# library, headers, CMake and pkg-config files (TxflowPackage.cmake), the CLI
# with its man page (tools/CMakeLists.txt), bash completion and the systemd
# unit txflow@.service (packaging/).
#
# Every path here is relative to the install prefix, so that `cmake --install
# --prefix DIR` (the install tests) stays inside DIR; the package installs
# under /usr (CPACK_PACKAGING_INSTALL_PREFIX), where systemd reads
# /usr/lib/systemd/system and bash-completion /usr/share/bash-completion.

install(FILES "${PROJECT_SOURCE_DIR}/packaging/txflow@.service"
    DESTINATION lib/systemd/system)
install(FILES "${PROJECT_SOURCE_DIR}/packaging/txflow.bash-completion"
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME txflow)
install(FILES "${PROJECT_SOURCE_DIR}/CHANGELOG.md" "${PROJECT_SOURCE_DIR}/docs/packaging.md"
    DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME txflow)
set(CPACK_PACKAGE_VENDOR txflow)
set(CPACK_PACKAGE_CONTACT "txflow maintainers <txflow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # txflow_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/txflow/txflow")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${PROJECT_DESCRIPTION}
 The txflow C++20 library (shared or static, as built), its headers, CMake
 package and pkg-config file, and the txflow command-line tool and daemon with
 its man page, bash completion and the systemd unit txflow@.service.")
# The library's own runtime libraries come from dpkg-shlibdeps; the -dev
# packages are what txflowConfig.cmake and txflow.pc find for a consumer.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# /usr/bin/txflow needs the package's own libtxflow.so.*: dpkg-shlibdeps runs in
# the staging directory, so it finds it in usr/lib there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_INSTALL_LIBDIR}")
set(TXFLOW_DEB_DEPENDS
    "libfmt-dev, libspdlog-dev, libhowardhinnant-date-dev, tzdata, nlohmann-json3-dev, libxxhash-dev, libpq-dev, libcpp-httplib-dev, pkg-config")
if(TXFLOW_SYSTEMD_FOUND)
    string(APPEND TXFLOW_DEB_DEPENDS ", libsystemd-dev")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${TXFLOW_DEB_DEPENDS}")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "systemd, bash-completion")
# systemctl daemon-reload after install and removal (only where systemd runs).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/postinst" "${PROJECT_SOURCE_DIR}/packaging/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
