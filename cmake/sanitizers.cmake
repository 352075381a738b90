# IDEMGATE_SANITIZE=ON: ASan + UBSan on every target, failing hard on the first report.
if(IDEMGATE_SANITIZE)
    # -g1: line tables for the reports' stack traces, 10 % less compile time than -g.
    # Three UBSan checks are left out: in the Asio/Beast-heavy files they are 45 % of the
    # sanitized compile time (CI builds everything twice within 20 minutes). vptr (dynamic
    # type of polymorphic objects, everywhere in Asio's type-erased handlers), null (a null
    # dereference still faults and ASan reports the SEGV) and alignment (x86 loads; nothing
    # here packs or puns structs). The other UBSan checks (integer overflow, shifts, bounds,
    # enum/bool loads, unreachable, missing return, ...) stay.
    add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr,null,alignment
                        -fno-sanitize-recover=all -fno-omit-frame-pointer -g1)
    add_link_options(-fsanitize=address,undefined)
endif()

# IDEMGATE_FUZZ=ON (clang only): tests/fuzz builds as libFuzzer binaries. Every target gets
# libFuzzer's coverage instrumentation (fuzzer-no-link) on top of the sanitizers above, so
# that the fuzzer sees the branches of the code under test, not only those of the harness;
# the fuzz executables alone link libFuzzer's main (tests/fuzz/CMakeLists.txt).
option(IDEMGATE_FUZZ "Build tests/fuzz as libFuzzer binaries (clang)" OFF)
if(IDEMGATE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "IDEMGATE_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++-14)")
    endif()
    if(NOT IDEMGATE_SANITIZE)
        add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr,null,alignment
                            -fno-sanitize-recover=all -fno-omit-frame-pointer -g1)
        add_link_options(-fsanitize=address,undefined)
    endif()
    # clang 14 cannot emit UBSan's `function` check (a signature stored before each function)
    # together with the coverage instrumentation in coroutines: "Cannot represent a
    # difference across sections" in every Asio coroutine file. Indirect calls through a
    # wrong function type are the one check given up.
    add_compile_options(-fsanitize=fuzzer-no-link -fno-sanitize=function)
endif()
