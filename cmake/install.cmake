# What `cmake --install` puts in place and `cpack -G DEB` packs (package slowpath):
#   sbin/slowpath, bin/llm-sim              the daemon and the simulated model
#   lib/libslowpath.so.0                    the stack to embed: the wire, dev, stack, edge and llm
#                                           layers in one shared library (see below)
#   include/slowpath/**                     its public headers
#   lib/pkgconfig/slowpath.pc               cflags and libs for it
#   share/man/man8/slowpath.8, man1/llm-sim.1
#   share/doc/slowpath/examples/            tap_host.c (embedding), slowpath.service (systemd)
include(GNUInstallDirs)
# Installing and packing take what `cmake --build` made, without first walking every target of the
# tree again (the tests alone are dozens), which on a busy machine costs more than the packing.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# libslowpath is shared: one file carries every layer with its own dependencies recorded in it, so
# a program links it with `pkg-config --libs slowpath` alone (libuv too, whose loop the edge's API
# takes; curl, cJSON and libpcap stay private). Its ABI is not promised stable before 1.0: the
# soname carries the major version. The layers are compiled once, position-independent, and
# reused for it and for the daemon.
set(SP_LAYERS slowpath_wire slowpath_dev slowpath_stack slowpath_edge slowpath_llm)
set_target_properties(${SP_LAYERS} PROPERTIES POSITION_INDEPENDENT_CODE ON)
set(SP_LAYER_OBJECTS)
foreach(layer ${SP_LAYERS})
  list(APPEND SP_LAYER_OBJECTS $<TARGET_OBJECTS:${layer}>)
endforeach()
add_library(slowpath_lib SHARED ${SP_LAYER_OBJECTS})
set_target_properties(slowpath_lib PROPERTIES OUTPUT_NAME slowpath VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR} LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
target_link_libraries(slowpath_lib PRIVATE PkgConfig::UV PkgConfig::CURL PkgConfig::CJSON PkgConfig::PCAP m)
# A library that links must have no undefined symbol of its own left.
target_link_options(slowpath_lib PRIVATE -Wl,--no-undefined)

install(TARGETS slowpath RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS llm-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS slowpath_lib LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/slowpath DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

# The .pc file finds its prefix from where it lies, so an install under any --prefix (or DESTDIR)
# describes itself rightly.
file(RELATIVE_PATH SP_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" SP_PC_TO_PREFIX "${SP_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/slowpath.pc.in ${CMAKE_BINARY_DIR}/slowpath.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/slowpath.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/docs/man/slowpath.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/llm-sim.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/examples/tap_host.c ${PROJECT_SOURCE_DIR}/examples/slowpath.service
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# cpack -G DEB: one package, slowpath, whose dependencies dpkg-shlibdeps reads off the binaries
# (libuv1, libcurl4, libcjson1, libpcap0.8, libc6).
set(CPACK_PACKAGE_NAME slowpath)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "slowpath maintainers <slowpath@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "user-space TCP/IP host on a TAP device whose decisions an LLM can take")
set(CPACK_PACKAGE_DESCRIPTION "A user-space TCP/IP stack on libuv that runs as a virtual host on a Linux TAP
device (ARP, ICMP, UDP, TCP), with chosen protocol decisions handed to an LLM and every proposal
checked by the native stack's validator. Ships the daemon, a simulated model (llm-sim), the
library and headers to embed the stack, and man pages.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_GENERATOR DEB)
include(CPack)
