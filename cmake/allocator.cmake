# IDEMGATE_ALLOCATOR: the malloc the gateway executable links (issue 14). Every request
# builds Beast field lists, coroutine frames, Redis commands and decoded records, and in the
# profiles malloc/free of glibc were 4-11 % of idemgate's samples (docs/benchmarks.md).
#   jemalloc  (default) Debian's libjemalloc-dev; the runtime needs libjemalloc2
#   mimalloc  Debian's libmimalloc-dev; the runtime needs libmimalloc2
#   system    glibc's malloc
# Only the idemgate executable links it (idemgate_link_allocator): the libraries and the
# tests stay allocator-neutral, and the integration tests drive that executable.
# The sanitizers replace malloc themselves, so IDEMGATE_SANITIZE and IDEMGATE_FUZZ force
# system: an allocator linked beside ASan's interceptors would either be bypassed or hide
# the heap errors ASan is there to find.
set(IDEMGATE_ALLOCATOR "jemalloc" CACHE STRING "malloc of the idemgate executable: jemalloc, mimalloc or system")
set_property(CACHE IDEMGATE_ALLOCATOR PROPERTY STRINGS jemalloc mimalloc system)
if(NOT IDEMGATE_ALLOCATOR MATCHES "^(jemalloc|mimalloc|system)$")
    message(FATAL_ERROR "IDEMGATE_ALLOCATOR=${IDEMGATE_ALLOCATOR}: use jemalloc, mimalloc or system")
endif()

set(IDEMGATE_ALLOCATOR_USED ${IDEMGATE_ALLOCATOR})
if((IDEMGATE_SANITIZE OR IDEMGATE_FUZZ) AND NOT IDEMGATE_ALLOCATOR STREQUAL "system")
    message(STATUS "idemgate allocator: system (IDEMGATE_ALLOCATOR=${IDEMGATE_ALLOCATOR} ignored: "
                   "the sanitizers bring their own malloc)")
    set(IDEMGATE_ALLOCATOR_USED system)
endif()

add_library(idemgate_allocator INTERFACE)
if(IDEMGATE_ALLOCATOR_USED STREQUAL "jemalloc")
    pkg_check_modules(jemalloc QUIET IMPORTED_TARGET jemalloc)
    if(NOT jemalloc_FOUND)
        message(FATAL_ERROR "IDEMGATE_ALLOCATOR=jemalloc, but jemalloc was not found (pkg-config "
                            "jemalloc): install libjemalloc-dev (scripts/install-deps.sh), or "
                            "configure with -DIDEMGATE_ALLOCATOR=system")
    endif()
    set(idemgate_allocator_lib PkgConfig::jemalloc)
    set(idemgate_allocator_version ${jemalloc_VERSION})
elseif(IDEMGATE_ALLOCATOR_USED STREQUAL "mimalloc")
    find_package(mimalloc CONFIG QUIET)
    if(NOT mimalloc_FOUND)
        message(FATAL_ERROR "IDEMGATE_ALLOCATOR=mimalloc, but mimalloc was not found (CMake "
                            "package mimalloc): install libmimalloc-dev, or configure with "
                            "-DIDEMGATE_ALLOCATOR=jemalloc or system")
    endif()
    set(idemgate_allocator_lib mimalloc)
    set(idemgate_allocator_version ${mimalloc_VERSION})
endif()
if(idemgate_allocator_lib)
    # Nothing of ours calls into the library by name: it replaces malloc/free by symbol
    # interposition, so it must stay a DT_NEEDED entry even where the linker defaults to
    # --as-needed (Ubuntu's GCC does).
    target_link_libraries(idemgate_allocator INTERFACE -Wl,--push-state,--no-as-needed
                                                       ${idemgate_allocator_lib} -Wl,--pop-state)
    message(STATUS "idemgate allocator: ${IDEMGATE_ALLOCATOR_USED} ${idemgate_allocator_version}")
elseif(NOT (IDEMGATE_SANITIZE OR IDEMGATE_FUZZ))
    message(STATUS "idemgate allocator: system")
endif()
# main.cpp names it in `idemgate --version` (and asks jemalloc/mimalloc their own version).
string(TOUPPER ${IDEMGATE_ALLOCATOR_USED} idemgate_allocator_upper)
target_compile_definitions(idemgate_allocator INTERFACE
    IDEMGATE_ALLOCATOR_${idemgate_allocator_upper}=1)
