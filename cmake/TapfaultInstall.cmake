# Install rules and the CMake package, included from the top-level CMakeLists.txt.
#
#   cmake --install build --prefix /opt/tapfault
#   # in another project:
#   find_package(tapfault 0.1 REQUIRED)
#   target_link_libraries(my_tests PRIVATE tapfault::tapfault)
#
# Installs bin/tapfault, the static libraries, include/tapfault/, the man page and
# lib/cmake/tapfault/ (tapfaultConfig.cmake finds the dependencies again: libtins, libpcap
# and libnl through pkg-config, yaml-cpp, nlohmann_json, Boost, CLI11, Threads).
# tapfault::tapfault links every library; tapfault::stack, tapfault::tap, tapfault::model,
# tapfault::scenario, tapfault::analysis, tapfault::report, tapfault::run and tapfault::cli
# (the rooms of docs/architecture.md) are there for a project that wants less.
# docs/examples/gtest-peer is such a project; scripts/test-install.sh builds it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TAPFAULT_LIBRARIES tapfault_stack tapfault_tap tapfault_model tapfault_scenario
  tapfault_analysis tapfault_report tapfault_run tapfault_cli)
foreach(lib ${TAPFAULT_LIBRARIES})
  string(REPLACE "tapfault_" "" name ${lib})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${name})
endforeach()

# tapfault::tapfault: everything (the executable keeps the plain name `tapfault`).
add_library(tapfault_all INTERFACE)
set_target_properties(tapfault_all PROPERTIES EXPORT_NAME tapfault)
target_link_libraries(tapfault_all INTERFACE ${TAPFAULT_LIBRARIES})
target_compile_features(tapfault_all INTERFACE cxx_std_20)
if(TAPFAULT_SANITIZE)  # the installed libraries call into the sanitizer runtimes
  target_link_options(tapfault_all INTERFACE -fsanitize=address,undefined)
endif()
add_library(tapfault::tapfault ALIAS tapfault_all)

set(TAPFAULT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tapfault)
install(TARGETS ${TAPFAULT_LIBRARIES} tapfault_all
  EXPORT tapfaultTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})  # include/ comes with tapfault::stack and ::model
install(TARGETS tapfault RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tapfault DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_SOURCE_DIR}/docs/tapfault.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(EXPORT tapfaultTargets NAMESPACE tapfault:: DESTINATION ${TAPFAULT_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tapfaultConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tapfaultConfig.cmake
  INSTALL_DESTINATION ${TAPFAULT_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tapfaultConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tapfaultConfig.cmake ${PROJECT_BINARY_DIR}/tapfaultConfigVersion.cmake
  DESTINATION ${TAPFAULT_CMAKE_DIR})
