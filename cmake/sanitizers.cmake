# idemgate_sanitizers: with IDEMGATE_SANITIZE=ON, ASan + UBSan on each of our targets (not on
# the system libraries), failing hard on the first report. Every target of ours links it
# through idemgate_target_options (warnings.cmake).
#
# -g1: line tables for the reports' stack traces, 10 % less compile time than -g.
# Three UBSan checks are left out: in the Asio/Beast-heavy files they are 45 % of the
# sanitized compile time (CI builds everything twice within its time). vptr (dynamic type of
# polymorphic objects, everywhere in Asio's type-erased handlers), null (a null dereference
# still faults and ASan reports the SEGV) and alignment (x86 loads; nothing here packs or
# puns structs). The other UBSan checks (integer overflow, shifts, bounds, enum/bool loads,
# unreachable, missing return, ...) stay.
option(IDEMGATE_FUZZ "Build tests/fuzz as libFuzzer binaries (clang)" OFF)
add_library(idemgate_sanitizers INTERFACE)
if(IDEMGATE_SANITIZE OR IDEMGATE_FUZZ)
    target_compile_options(idemgate_sanitizers INTERFACE
        -fsanitize=address,undefined -fno-sanitize=vptr,null,alignment
        -fno-sanitize-recover=all -fno-omit-frame-pointer -g1)
    target_link_options(idemgate_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# IDEMGATE_FUZZ=ON (clang only): tests/fuzz builds as libFuzzer binaries. Every target of
# ours gets libFuzzer's coverage instrumentation (fuzzer-no-link) on top of the sanitizers
# above, so that the fuzzer sees the branches of the code under test, not only those of the
# harness; the fuzz executables alone link libFuzzer's main (tests/fuzz/CMakeLists.txt).
if(IDEMGATE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "IDEMGATE_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++-14)")
    endif()
    # clang 14 cannot emit UBSan's `function` check (a signature stored before each function)
    # together with the coverage instrumentation in coroutines: "Cannot represent a
    # difference across sections" in every Asio coroutine file. Indirect calls through a
    # wrong function type are the one check given up.
    target_compile_options(idemgate_sanitizers INTERFACE -fsanitize=fuzzer-no-link
                                                         -fno-sanitize=function)
endif()
