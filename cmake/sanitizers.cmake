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
add_library(idemgate_sanitizers INTERFACE)
if(IDEMGATE_SANITIZE)
    target_compile_options(idemgate_sanitizers INTERFACE
        -fsanitize=address,undefined -fno-sanitize=vptr,null,alignment
        -fno-sanitize-recover=all -fno-omit-frame-pointer -g1)
    target_link_options(idemgate_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
