# Cross build for aarch64 on a Debian amd64 host (CMakePresets.json, preset "aarch64"):
# Debian's aarch64-linux-gnu cross compilers, arm64 libraries from Debian multiarch
# (`dpkg --add-architecture arm64`; tools/setup installs them), protoc and
# grpc_cpp_plugin from the host. Programs built here run on the host under
# qemu-aarch64-static, which is how CTest runs the unit tests.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Multiarch: libraries and CMake package files under /usr/lib/aarch64-linux-gnu,
# headers in /usr/include (shared by both arches) and /usr/include/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Never pick an amd64 library or package file by accident; programs (protoc,
# grpc_cpp_plugin) are the host's, which is what we want.
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu
                      /usr/lib/x86_64-linux-gnu/cmake /usr/local/lib/x86_64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Debian's pkgconf cross wrapper: reads only the arm64 .pc files.
find_program(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config)
if(NOT PKG_CONFIG_EXECUTABLE)
  message(FATAL_ERROR "aarch64-linux-gnu-pkg-config not found: run tools/setup "
                      "(it installs the arm64 libraries and with them pkgconf:arm64)")
endif()

# binfmt_misc may not be mounted: run arm64 programs through QEMU's user-mode
# emulator explicitly (gtest_discover_tests and CTest use this).
find_program(HULL_QEMU_AARCH64 qemu-aarch64-static)
if(HULL_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${HULL_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
else()
  message(FATAL_ERROR "qemu-aarch64-static not found: run tools/setup (package qemu-user-static); "
                      "the aarch64 unit tests run under it")
endif()

# libfdt-dev is not Multi-Arch: the arm64 libfdt.a comes from `apt-get download
# libfdt-dev:arm64`, unpacked into a cache by fetch-arm64-libfdt (tools/setup runs
# it too). hull-vmm links it statically; the headers are the amd64 package's.
if(NOT HULL_ARM64_LIBFDT_DIR)
  execute_process(COMMAND ${CMAKE_CURRENT_LIST_DIR}/fetch-arm64-libfdt
                  OUTPUT_VARIABLE _hull_libfdt_dir OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_VARIABLE _hull_libfdt_error RESULT_VARIABLE _hull_libfdt_rc)
  if(NOT _hull_libfdt_rc EQUAL 0)
    message(FATAL_ERROR "no libfdt.a for arm64: ${_hull_libfdt_error}")
  endif()
  set(HULL_ARM64_LIBFDT_DIR ${_hull_libfdt_dir} CACHE PATH "Directory holding libfdt.a for arm64")
endif()
list(APPEND CMAKE_LIBRARY_PATH ${HULL_ARM64_LIBFDT_DIR})
# For a plain `fdt` in target_link_libraries as well as for find_library(fdt).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${HULL_ARM64_LIBFDT_DIR}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-L${HULL_ARM64_LIBFDT_DIR}")
