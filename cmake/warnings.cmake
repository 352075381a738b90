# idemgate_warnings: the warning set every target of ours compiles with.
add_library(idemgate_warnings INTERFACE)
target_compile_options(idemgate_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion
    # GCC 12 reports false -Wrestrict positives inside std::string at -O2 (GCC bug 105329).
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
    # ... and false -Wmaybe-uninitialized ones in sanitizer-instrumented variant code.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:${IDEMGATE_SANITIZE}>>:-Wno-maybe-uninitialized>
    $<$<BOOL:${IDEMGATE_WERROR}>:-Werror>)
