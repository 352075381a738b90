# idemgate_warnings: the warning set every target of ours compiles with.
add_library(idemgate_warnings INTERFACE)
target_compile_options(idemgate_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion
    # GCC 12 reports false -Wrestrict positives inside std::string at -O2 (GCC bug 105329).
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
    # ... false -Wmismatched-new-delete ones on Asio's coroutine frames (its operator new
    # takes thread-cached or aligned_alloc memory that its own operator delete gives back;
    # seen at -O1/-O2; ASan's alloc-dealloc-mismatch check covers real mismatches) ...
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
    # ... and, in sanitizer-instrumented code, false -Wmaybe-uninitialized (variant) ones.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:${IDEMGATE_SANITIZE}>>:-Wno-maybe-uninitialized>
    $<$<BOOL:${IDEMGATE_WERROR}>:-Werror>)

# idemgate_target_options(TARGET): what every target of ours compiles and links with.
function(idemgate_target_options target)
    target_link_libraries(${target} PRIVATE idemgate_warnings idemgate_sanitizers)
endfunction()
