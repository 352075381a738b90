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
