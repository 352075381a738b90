# idemgate_warnings: the warning set every target of ours compiles with.
add_library(idemgate_warnings INTERFACE)
target_compile_options(idemgate_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion
    # GCC 12 reports false -Wrestrict positives inside std::string at -O2 (GCC bug 105329).
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
    # ... and, in sanitizer-instrumented code, false -Wmaybe-uninitialized (variant) and
    # -Wmismatched-new-delete (Asio's coroutine frame allocator) ones.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:${IDEMGATE_SANITIZE}>>:-Wno-maybe-uninitialized>
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:${IDEMGATE_SANITIZE}>>:-Wno-mismatched-new-delete>
    $<$<BOOL:${IDEMGATE_WERROR}>:-Werror>)
